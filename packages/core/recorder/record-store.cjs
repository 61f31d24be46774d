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
/** A repeat's stack is read once in SAMPLE hits, to find other call sites of the same need. */
const SAMPLE = 64;
const MAX_DROPPED_FOLDERS = 16;

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
   * stack. Every SAMPLE-th repeat returns 'sample' so the caller reads the stack for another call site.
   */
  function repeat(perm, resource) {
    if (state.inside) return true;
    const entry = entryOf(perm + '\u0000' + resource + '\u0000' + (cwd() || ''));
    if (entry === undefined) return false;
    entry.count++;
    entry.last = now();
    state.dirty = true;
    if (entry.count % SAMPLE === 0 && (entry.sites === undefined || entry.sites.length < MAX_SITES)) return 'sample';
    return true;
  }

  /** Count one check; a new entry is added only while under the cap (past it: counted, by permission and folder). */
  function note(perm, resource, site, extra, sampled) {
    if (state.inside) return;
    const at = cwd();
    const k = perm + '\u0000' + resource + '\u0000' + (at || '');
    const entry = entryOf(k);
    if (entry !== undefined) {
      if (!sampled) {
        entry.count++;
        entry.last = now();
        state.dirty = true;
      }
      if (site !== undefined && site !== entry.site && (entry.sites === undefined || (entry.sites.length < MAX_SITES && !entry.sites.includes(site)))) {
        if (entry.sites === undefined) entry.sites = [];
        entry.sites.push(site);
        state.dirty = true;
      }
      return;
    }
    if (resource.length > MAX_RESOURCE || entries.size >= maxEntries) return drop(perm, resource);
    const t = now();
    state.dirty = true;
    const e = { permission: perm, resource, count: 1, first: t, last: t };
    if (at !== undefined) e.cwd = at;
    if (site !== undefined) e.site = site;
    if (extra) Object.assign(e, extra);
    if (e.existed === undefined && (perm === 'FileSystemRead' || perm === 'FileSystemWrite') && resource !== '') e.existed = exists(resource);
    addEntry(k, e);
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

  return { state, repeat, note, noteLazy };
}

module.exports = { createStore };
