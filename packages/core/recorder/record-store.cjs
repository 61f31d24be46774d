'use strict';
// The record preload's entries (record.cjs): one entry a distinct (permission, resource, working
// folder), with a count, first/last seen times and the call sites that asked (the first, and up to
// MAX_SITES more found by sampling repeats). Memory is bounded by the cap on entries, never by traffic:
// past the cap a check is only counted, by permission and folder. Required during preload, before any
// app code runs, so the built-ins saved here are the originals.
const path = require('path');
const { cwd } = require('./record-util.cjs');

const statSync = require('fs').statSync;
const apply = Reflect.apply;
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const now = Date.now;

const MAX_RESOURCE = 4096;
const MAX_SITES = 7;
/**
 * A repeat's stack is read, to find other call sites of the same need, at the 64th, 128th, 256th ...
 * hit, then once in 4096: often early, when a need's other sites show up, and at a cost per check that
 * tends to nothing on a busy route.
 */
const sampleAt = (count) => count >= 64 && ((count & (count - 1)) === 0 || (count & 4095) === 0);
const MAX_DROPPED_FOLDERS = 16;
/**
 * The clock of repeats: the time read once a second and once in CLOCK_HITS repeats (a loop that blocks
 * the event loop keeps it moving), not on every check; a repeat's `last` is to the second or so.
 */
const CLOCK_MS = 1000;
const CLOCK_HITS = 256;
/**
 * The last spellings the repeat cache answered for each file-system scope (nearly every check is one),
 * RING of them, compared with === before the cache is asked. The resource Node hands over is a new
 * string each check, so a Map look-up hashes it every time: measured (callgrind, Node 26, a repeated
 * statSync) about 780 instructions, against about 140 for this scan. A spelling not in the ring takes
 * the Map and then replaces the ring's oldest slot, so a service's hot paths settle in it.
 */
const RING = 8;

/**
 * The store: `state` (its entries, what was dropped, whether it changed since the last flush, and
 * `inside`, set while the recorder makes file-system calls of its own, which publish checks too) and
 * repeat/note/noteLazy, which count one check.
 */
function createStore(maxEntries) {
  /** @type {Map<string, {permission: string, resource: string, cwd?: string, site?: string, sites?: string[], count: number, first: number, last: number, existed?: boolean, denied?: boolean}>} */
  const entries = new Map();
  // Bound once to the original Map methods: cheaper than Reflect.apply on every check, and out of the app's reach.
  const entryOf = mapGet.bind(entries);
  const addEntry = mapSet.bind(entries);
  /** What was dropped past the cap, by permission: how many, and the first folders (never silent). */
  const droppedBy = new Map();
  const state = { entries, droppedBy, dropped: 0, dirty: true, inside: false };

  // The repeat path, which every check after a need's first one takes: the need's entry found by its
  // permission and then by the resource exactly as Node or the app gave it (before resolving it, with
  // no key to build), in a cache valid for one working folder. Cleared when the folder changes (moved(),
  // called by the preload's process.chdir wrapper, so a repeat does not ask process.cwd(): that call was
  // about a fifth of a repeat's cost), and when it holds more spellings than the cap allows, so it stays
  // bounded too.
  let fastCwd = cwd();
  let fast = new Map();
  let fastGet = mapGet.bind(fast);
  let fastSize = 0;
  let clock = now();
  let hits = 0;
  const ticker = setInterval(() => (clock = now()), CLOCK_MS);
  ticker.unref();

  const newRing = () => ({ slots: new Array(2 * RING).fill(''), next: 0 });
  let readRing = newRing();
  let writeRing = newRing();

  function clearFast(at) {
    fastCwd = at;
    fast = new Map();
    fastGet = mapGet.bind(fast);
    fastSize = 0;
    readRing = newRing();
    writeRing = newRing();
  }

  /** Remember that `raw`, as given for `perm` in the current working folder, is the need of `entry`. */
  function remember(perm, raw, entry) {
    if (typeof raw !== 'string') return;
    const at = cwd();
    if (at !== fastCwd || fastSize >= 2 * maxEntries) clearFast(at);
    let byResource = fastGet(perm);
    if (byResource === undefined) {
      const map = new Map();
      byResource = { get: mapGet.bind(map), set: mapSet.bind(map) };
      apply(mapSet, fast, [perm, byResource]);
    }
    if (byResource.get(raw) === undefined) {
      byResource.set(raw, entry);
      fastSize++;
    }
  }

  /**
   * A repeat counted by `perm` and the resource as given (`raw`, a string), when it is one: true, or
   * 'sample' when the caller should read the stack for another call site; false for a need not seen
   * (under these spellings and working folder): the caller then takes the full path (repeat or note).
   */
  function hit(perm, raw) {
    const ring = perm === 'FileSystemRead' ? readRing : perm === 'FileSystemWrite' ? writeRing : undefined;
    let entry;
    if (ring !== undefined) {
      const slots = ring.slots;
      for (let i = 0; i < slots.length; i += 2) {
        if (slots[i] === raw) {
          entry = slots[i + 1];
          break;
        }
      }
    }
    if (entry === undefined) {
      const byResource = fastGet(perm);
      if (byResource === undefined) return false;
      entry = byResource.get(raw);
      if (entry === undefined) return false;
      if (ring !== undefined) {
        ring.slots[ring.next] = raw;
        ring.slots[ring.next + 1] = entry;
        ring.next = (ring.next + 2) % (2 * RING);
      }
    }
    if (++hits === CLOCK_HITS) {
      hits = 0;
      clock = now();
    }
    const count = ++entry.count;
    entry.last = clock;
    state.dirty = true;
    return sampleAt(count) && (entry.sites === undefined || entry.sites.length < MAX_SITES) ? 'sample' : true;
  }

  /** The working folder may have changed (after process.chdir): the repeat cache is for one folder. */
  function moved() {
    const at = cwd();
    if (at !== fastCwd) clearFast(at);
  }

  function drop(perm, resource) {
    state.dropped++;
    state.dirty = true;
    let d = apply(mapGet, droppedBy, [perm]);
    if (d === undefined) {
      if (droppedBy.size >= 16) return;
      d = { permission: perm, count: 0, under: [] };
      apply(mapSet, droppedBy, [perm, d]);
    }
    d.count++;
    if (resource === '' || d.under.length >= MAX_DROPPED_FOLDERS) return;
    const under = resource.length > MAX_RESOURCE ? resource.slice(0, MAX_RESOURCE) : path.dirname(resource);
    if (!d.under.includes(under)) d.under.push(under);
  }

  /**
   * The entry for one check, if it was seen before (its count and last time updated): a repeat needs no
   * stack. A sampled repeat (sampleAt) returns 'sample' so the caller reads the stack for another call
   * site. `raw`, the resource as given before resolving, makes the next repeat take hit().
   */
  function repeat(perm, resource, raw) {
    if (state.inside) return true;
    const entry = entryOf(perm + '\u0000' + resource + '\u0000' + (cwd() || ''));
    if (entry === undefined) return false;
    const count = ++entry.count;
    entry.last = clock;
    state.dirty = true;
    if (raw !== undefined) remember(perm, raw, entry);
    if (sampleAt(count) && (entry.sites === undefined || entry.sites.length < MAX_SITES)) return 'sample';
    return true;
  }

  /** Count one check; a new entry is added only while under the cap (past it: counted, by permission and folder). */
  function note(perm, resource, site, extra, sampled, raw) {
    if (state.inside) return;
    const at = cwd();
    const k = perm + '\u0000' + resource + '\u0000' + (at || '');
    const entry = entryOf(k);
    if (entry !== undefined) {
      if (!sampled) {
        entry.count++;
        entry.last = clock;
        state.dirty = true;
      }
      if (raw !== undefined) remember(perm, raw, entry);
      if (site !== undefined && site !== entry.site && (entry.sites === undefined || (entry.sites.length < MAX_SITES && !entry.sites.includes(site)))) {
        if (entry.sites === undefined) entry.sites = [];
        entry.sites.push(site);
        state.dirty = true;
      }
      return;
    }
    if (resource.length > MAX_RESOURCE || entries.size >= maxEntries) return drop(perm, resource);
    const t = now();
    clock = t;
    state.dirty = true;
    const e = { permission: perm, resource, count: 1, first: t, last: t };
    if (at !== undefined) e.cwd = at;
    if (site !== undefined) e.site = site;
    if (extra) Object.assign(e, extra);
    if (e.existed === undefined && (perm === 'FileSystemRead' || perm === 'FileSystemWrite') && resource !== '') e.existed = exists(resource);
    addEntry(k, e);
    if (raw !== undefined) remember(perm, raw, e);
  }

  /** note() for a need whose call site costs a stack: read only when the need is new (or sampled). */
  function noteLazy(perm, resource, siteOf, extra) {
    const seen = repeat(perm, resource);
    if (seen !== true) note(perm, resource, siteOf(), extra, seen === 'sample');
  }

  function exists(resource) {
    state.inside = true;
    try {
      return statSync(resource, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return undefined;
    } finally {
      state.inside = false;
    }
  }

  /** Whether a need not in the record yet would be dropped (the cap is reached): its stack need not be read. */
  const full = () => entries.size >= maxEntries;

  return { state, hit, moved, repeat, note, noteLazy, drop, full };
}

module.exports = { createStore };
