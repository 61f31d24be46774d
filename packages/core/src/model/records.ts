// Record files (written by recorder/record.cjs in complain mode) as data: read one, merge many (instances
// of a service, days of traffic), turn what they saw into denials for the learn loop's grant planning,
// and compare a committed profile with them. Pure: the runner reads the files, this only parses text.
import path from 'node:path';
import type { Denial } from './types.js';
import type { Capabilities } from './node-versions.js';
import { needOf } from './denials.js';
import { findCovering, type Grant } from './grants.js';
import { PermlearnError } from '../errors.js';

export type RecordMode = 'audit' | 'enforce' | 'observe';

/** One distinct (permission, resource, call site) a recording process saw. */
export interface RecordEntry {
  permission: string;
  /** Absolute for file-system checks (resolved when seen), '' when Node names none. */
  resource: string;
  cwd?: string;
  site?: string;
  count: number;
  first: number;
  last: number;
  existed?: boolean;
  /** Denied by an enforced profile (enforce mode). */
  denied?: boolean;
  /** Other call sites the recorder found asking for it (by sampling repeats). */
  sites?: string[];
}

/** What a recorder did not keep past its cap of distinct entries: how many checks, by permission, and
 *  the first folders they were under. */
export interface DroppedNeeds {
  permission: string;
  count: number;
  under: string[];
}

export interface RecordFile {
  name: string;
  pid: number;
  node: string;
  mode: RecordMode;
  main?: string;
  cwd?: string;
  started: number;
  /** What this mode cannot see (said by the recorder: Node 20/22 and runs without --permission-audit). */
  unseen: string[];
  entries: RecordEntry[];
  /** The process ended and flushed a last time; false for a record cut off (SIGKILL, a crash, still running). */
  final: boolean;
  /** When it was last written. */
  flushed?: number;
  /** Entries past the recorder's cap, and lines of this file that were not valid record lines. */
  dropped: number;
  droppedBy: DroppedNeeds[];
  invalid: number;
  /** The recorder signed its lines (it had a key). */
  signed: boolean;
  /** Checked against a key: every line kept passed; `forged` lines failed (or were unsigned) and were dropped. */
  verified: boolean;
  forged: number;
  /** Refused whole when checked against a key: its header failed the check (or it is unsigned). */
  rejected?: 'unsigned' | 'forged';
}

/** Checks one line's tag against the key, for the file `fileId` (`<pid>-<started>`); from the runner (it holds the crypto). */
export type RecordLineCheck = (fileId: string, tag: string, body: string) => boolean;

/** `<22-char tag> <json>` (signed) or `<json>` (a recorder without a key). */
const SIGNED_LINE = /^([A-Za-z0-9_-]{22}) (\{.*)$/s;

function splitLine(line: string): { tag?: string; body: string } {
  const m = SIGNED_LINE.exec(line);
  return m ? { tag: m[1]!, body: m[2]! } : { body: line };
}

/** Longer than any path Node accepts: a line past it is not a record line. */
const MAX_LINE = 16 * 1024;
const MODES: readonly string[] = ['audit', 'enforce', 'observe'];

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const optString = (v: unknown, max = 4096): v is string | undefined => v === undefined || (typeof v === 'string' && v.length <= max);

/**
 * Parse one record file. A file that does not start with a record header is refused (it is not a
 * record); a line that is not a valid entry (a last line cut off mid-write) is counted and skipped.
 * With `check` (a key was given), a line whose tag fails is dropped and counted as forged, and a file
 * whose header fails is kept with no entries and marked rejected.
 */
export function parseRecordFile(text: string, name: string, check?: RecordLineCheck): RecordFile {
  const lines = text.split('\n');
  const first = splitLine(lines[0] ?? '');
  let header: Record<string, unknown> | undefined;
  try {
    header = JSON.parse(first.body) as Record<string, unknown>;
  } catch {
    header = undefined;
  }
  if (!header || typeof header !== 'object' || header.t !== 'record' || header.v !== 1) throw new PermlearnError('usage', `${name} is not a permlearn record file (written by permlearn/record)`);
  const mode = typeof header.mode === 'string' && MODES.includes(header.mode) ? (header.mode as RecordMode) : undefined;
  if (!mode || typeof header.node !== 'string' || !isCount(header.pid) || !isTime(header.started)) throw new PermlearnError('usage', `${name}: the record header is malformed`);
  const fileId = `${header.pid}-${header.started}`;
  const file: RecordFile = {
    name,
    pid: header.pid,
    node: header.node,
    mode,
    started: header.started,
    unseen: Array.isArray(header.unseen) ? header.unseen.filter((u): u is string => typeof u === 'string').slice(0, 32) : [],
    entries: [],
    final: false,
    dropped: 0,
    droppedBy: [],
    invalid: 0,
    signed: first.tag !== undefined,
    verified: check !== undefined,
    forged: 0,
  };
  if (check) {
    const rejected = first.tag === undefined ? 'unsigned' : !check(fileId, first.tag, first.body) ? 'forged' : undefined;
    if (rejected) return { ...file, rejected, verified: false };
  }
  if (typeof header.main === 'string' && path.isAbsolute(header.main)) file.main = header.main;
  if (typeof header.cwd === 'string' && path.isAbsolute(header.cwd)) file.cwd = header.cwd;
  for (const raw of lines.slice(1)) {
    if (raw === '') continue;
    if (raw.length > MAX_LINE) {
      file.invalid++;
      continue;
    }
    const { tag, body } = splitLine(raw);
    if (check && (tag === undefined || !check(fileId, tag, body))) {
      file.forged++;
      continue;
    }
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(body) as Record<string, unknown>;
      if (!m || typeof m !== 'object') throw new Error('not an object');
    } catch {
      file.invalid++;
      continue;
    }
    if (m.t === 'summary') {
      file.final = m.final === true;
      if (isTime(m.flushed)) file.flushed = m.flushed;
      if (isCount(m.dropped)) file.dropped = m.dropped;
      if (Array.isArray(m.droppedBy)) file.droppedBy = m.droppedBy.slice(0, 16).flatMap((d: unknown) => droppedOf(d));
      continue;
    }
    const entry = entryOf(m);
    if (entry) file.entries.push(entry);
    else file.invalid++;
  }
  return file;
}

function droppedOf(d: unknown): DroppedNeeds[] {
  if (!d || typeof d !== 'object') return [];
  const { permission, count, under } = d as Record<string, unknown>;
  if (typeof permission !== 'string' || permission.length > 64 || !isCount(count)) return [];
  const folders = Array.isArray(under) ? under.filter((u): u is string => typeof u === 'string' && u.length <= 4096).slice(0, 16) : [];
  return [{ permission, count, under: folders }];
}

function entryOf(m: Record<string, unknown>): RecordEntry | undefined {
  if (m.t !== 'seen' || typeof m.permission !== 'string' || m.permission.length > 64 || typeof m.resource !== 'string' || m.resource.length > 4096) return undefined;
  if (!isCount(m.count) || m.count < 1 || !isTime(m.first) || !isTime(m.last) || !optString(m.site) || !optString(m.cwd)) return undefined;
  const fsCheck = m.permission === 'FileSystemRead' || m.permission === 'FileSystemWrite';
  if (fsCheck && m.resource !== '' && !path.isAbsolute(m.resource)) return undefined;
  const e: RecordEntry = { permission: m.permission, resource: m.resource, count: m.count, first: m.first, last: Math.max(m.first, m.last) };
  if (typeof m.cwd === 'string' && path.isAbsolute(m.cwd)) e.cwd = m.cwd;
  if (typeof m.site === 'string' && m.site !== '') e.site = m.site;
  if (Array.isArray(m.sites)) {
    const more = m.sites.filter((x): x is string => typeof x === 'string' && x !== '' && x.length <= 4096).slice(0, 16);
    if (more.length) e.sites = more;
  }
  if (typeof m.existed === 'boolean') e.existed = m.existed;
  if (m.denied === true) e.denied = true;
  return e;
}

/** What several records saw of one (permission, resource). */
export interface MergedEntry {
  permission: string;
  resource: string;
  cwd?: string;
  /** Call sites, first seen first (at most MAX_SITES). */
  sites: string[];
  count: number;
  first: number;
  last: number;
  /** False when it did not exist when first checked in every record that saw it. */
  existed?: boolean;
  denied: boolean;
  /** Indexes (into MergedRecords.files) of the records that saw it. */
  seenIn: number[];
}

export interface MergedRecords {
  /** The records used (not rejected, not a copy of another). */
  files: RecordFile[];
  /** Records refused whole: their header failed the key check, or they were unsigned when a key was given. */
  rejected: RecordFile[];
  /** Records that were copies of another (the same process: pid, start time and Node), counted once. */
  duplicates: number;
  /** Lines that failed the key check in the records used (dropped). */
  forged: number;
  /** Records used without a check: no key was given for them. */
  unchecked: number;
  /** Checks past a recorder's cap, all records together, by permission. */
  dropped: DroppedNeeds[];
  entries: MergedEntry[];
  first?: number;
  last?: number;
  /** What some record's mode could not see, once each. */
  unseen: string[];
}

const MAX_SITES = 8;

/** One entry per (permission, resource) over all the records, with counts added up and times widened. */
export function mergeRecords(given: readonly RecordFile[]): MergedRecords {
  const byKey = new Map<string, MergedEntry>();
  const rejected = given.filter((f) => f.rejected !== undefined);
  const processes = new Set<string>();
  const files = given.filter((f) => {
    if (f.rejected !== undefined) return false;
    const id = `${f.pid}\u0000${f.started}\u0000${f.node}`;
    if (processes.has(id)) return false;
    processes.add(id);
    return true;
  });
  const dropped: DroppedNeeds[] = [];
  for (const f of files) {
    for (const d of f.droppedBy) {
      const into = dropped.find((x) => x.permission === d.permission);
      if (!into) dropped.push({ permission: d.permission, count: d.count, under: d.under.slice(0, 16) });
      else {
        into.count += d.count;
        for (const u of d.under) if (into.under.length < 16 && !into.under.includes(u)) into.under.push(u);
      }
    }
    // An older recorder (or a total past the folders kept) says only how many.
    const named = f.droppedBy.reduce((n, d) => n + d.count, 0);
    if (f.dropped > named) {
      const into = dropped.find((x) => x.permission === '');
      if (into) into.count += f.dropped - named;
      else dropped.push({ permission: '', count: f.dropped - named, under: [] });
    }
  }
  let first: number | undefined;
  let last: number | undefined;
  const unseen: string[] = [];
  files.forEach((f, index) => {
    for (const u of f.unseen) if (!unseen.includes(u)) unseen.push(u);
    for (const e of f.entries) {
      const sites = [...(e.site ? [e.site] : []), ...(e.sites ?? [])];
      first = first === undefined ? e.first : Math.min(first, e.first);
      last = last === undefined ? e.last : Math.max(last, e.last);
      const key = `${e.permission}\u0000${e.resource}`;
      const m = byKey.get(key);
      if (!m) {
        byKey.set(key, {
          permission: e.permission,
          resource: e.resource,
          ...(e.cwd !== undefined ? { cwd: e.cwd } : {}),
          sites: sites.slice(0, MAX_SITES),
          count: e.count,
          first: e.first,
          last: e.last,
          ...(e.existed !== undefined ? { existed: e.existed } : {}),
          denied: e.denied === true,
          seenIn: [index],
        });
        continue;
      }
      m.count += e.count;
      if (e.first < m.first) m.first = e.first;
      if (e.last > m.last) m.last = e.last;
      for (const site of sites) if (!m.sites.includes(site) && m.sites.length < MAX_SITES) m.sites.push(site);
      if (e.existed === true) m.existed = true;
      if (e.denied) m.denied = true;
      if (m.seenIn[m.seenIn.length - 1] !== index) m.seenIn.push(index);
    }
  });
  // First seen first: the order the learn loop would have met them in.
  const entries = [...byKey.values()].sort((a, b) => a.first - b.first);
  return {
    files,
    rejected,
    duplicates: given.length - rejected.length - files.length,
    forged: files.reduce((n, f) => n + f.forged, 0),
    unchecked: files.filter((f) => !f.verified).length,
    dropped,
    entries,
    ...(first !== undefined ? { first } : {}), ...(last !== undefined ? { last } : {}), unseen };
}

/**
 * The records as the denials an audit run would have reported (source `channel`), for the learn loop's
 * own grant planning: the same generalisation and breadth rule as a learned profile.
 */
export function recordDenials(merged: MergedRecords): Denial[] {
  return merged.entries.map((e) => ({
    permission: e.permission,
    resource: e.resource,
    ...(e.cwd !== undefined ? { cwd: e.cwd } : {}),
    code: 'ERR_ACCESS_DENIED',
    source: 'channel' as const,
    ...(e.sites[0] !== undefined ? { site: e.sites[0] } : {}),
    ...(e.existed !== undefined ? { existed: e.existed } : {}),
    hits: e.count,
    time: e.first,
    lastTime: e.last,
  }));
}

/** In how many of the records something a grant covers was seen, and when first and last. */
export function seenInRecords(grant: Pick<Grant, 'scope' | 'path' | 'kind'>, merged: MergedRecords, caps: Capabilities): { runs: number; of: number; first?: number; last?: number } {
  const files = new Set<number>();
  let first: number | undefined;
  let last: number | undefined;
  const reach = [{ ...grant, denials: [], notes: [] } as Grant];
  for (const e of merged.entries) {
    const need = needOf(entryDenial(e), caps);
    const covered = need.type === 'fs' ? findCovering(reach, need.scope, need.path) : need.type === 'scope' ? findCovering(reach, need.scope) : undefined;
    if (!covered) continue;
    for (const i of e.seenIn) files.add(i);
    first = first === undefined ? e.first : Math.min(first, e.first);
    last = last === undefined ? e.last : Math.max(last, e.last);
  }
  return { runs: files.size, of: merged.files.length, ...(first !== undefined ? { first } : {}), ...(last !== undefined ? { last } : {}) };
}

function entryDenial(e: MergedEntry): Denial {
  return { permission: e.permission, resource: e.resource, ...(e.cwd !== undefined ? { cwd: e.cwd } : {}), code: 'ERR_ACCESS_DENIED', source: 'channel' };
}

/** `seen in 3 of 4 records, 2026-11-30T10:00:00.000Z to 2026-12-01T09:00:00.000Z`. */
export function describeSeenIn(seen: { runs: number; of: number; first?: number; last?: number }): string {
  const period = seen.first !== undefined && seen.last !== undefined ? `, first ${new Date(seen.first).toISOString()}, last ${new Date(seen.last).toISOString()}` : '';
  return `seen in ${seen.runs} of ${seen.of} record${seen.of === 1 ? '' : 's'}${period}`;
}

/** What the records could not vouch for, one sentence each (for a profile's warnings and check --records). */
export function recordsCaveats(merged: MergedRecords): string[] {
  const out: string[] = [];
  if (merged.rejected.length) out.push(`${merged.rejected.length} record file${merged.rejected.length === 1 ? '' : 's'} failed the key check and ${merged.rejected.length === 1 ? 'was' : 'were'} ignored: ${merged.rejected.map((f) => `${f.name} (${f.rejected})`).join(', ')}`);
  if (merged.forged) out.push(`${merged.forged} record line${merged.forged === 1 ? '' : 's'} failed the key check (not written by the recorder) and ${merged.forged === 1 ? 'was' : 'were'} ignored`);
  if (merged.unchecked) out.push(`${merged.unchecked} of ${merged.files.length} records ${merged.unchecked === 1 ? 'was' : 'were'} not checked against a key (none given: PERMLEARN_RECORD_KEY or <folder>.key), so anything that could write there could have added to them`);
  if (merged.duplicates) out.push(`${merged.duplicates} record file${merged.duplicates === 1 ? ' was a copy' : 's were copies'} of another and counted once`);
  for (const d of merged.dropped) {
    out.push(`${d.count} check${d.count === 1 ? '' : 's'}${d.permission ? ` of ${d.permission}` : ''} came past a recorder's cap of distinct entries and ${d.count === 1 ? 'is' : 'are'} not in the records${d.under.length ? ` (under ${d.under.join(', ')})` : ''}: the profile may lack ${d.count === 1 ? 'that need' : 'those needs'} (raise PERMLEARN_RECORD_MAX)`);
  }
  return out;
}

export interface RecordNeed {
  permission: string;
  resource: string;
  /** Who asked: the call sites that recorded it. */
  sites: string[];
  count: number;
  first: number;
  last: number;
  seenIn: number;
  /** Denied by the enforced profile (recorded in enforce mode), not only checked. */
  denied: boolean;
}

export interface RecordsComparison {
  /** Checks the records saw that no grant of the profile covers. */
  newNeeds: RecordNeed[];
  /** Grants (flags) nothing in the records used, over the whole period. */
  unused: string[];
  records: number;
  first?: number;
  last?: number;
}

/** Directory reads Node makes for module package scopes, and lookups of missing files, are not needs by themselves. */
function isNoise(e: MergedEntry, kindOf: (p: string) => 'file' | 'dir' | 'missing'): boolean {
  if (e.permission === 'Inspector' && e.resource === '') return true;
  if (e.permission !== 'FileSystemRead' || e.resource === '') return false;
  if (e.existed === false && !e.resource.includes('/node_modules/')) return true;
  return kindOf(e.resource) === 'dir';
}

/**
 * Compare a profile's grants with what the records saw: what they needed that the profile lacks (with
 * who asked), and grants nothing used. `flagOf` renders a grant as the profile shows it.
 */
export function compareWithRecords(
  grants: readonly Grant[],
  merged: MergedRecords,
  caps: Capabilities,
  kindOf: (p: string) => 'file' | 'dir' | 'missing',
  flagOf: (g: Grant) => string,
  implicitReads: readonly string[] = [],
): RecordsComparison {
  const used = new Set<Grant>();
  const newNeeds: RecordNeed[] = [];
  for (const e of merged.entries) {
    const need = needOf(entryDenial(e), caps);
    if (need.type === 'ungrantable') continue;
    const covering = need.type === 'fs' ? findCovering(grants, need.scope, need.path) : findCovering(grants, need.scope);
    if (covering) {
      used.add(covering);
      continue;
    }
    if (need.type === 'fs' && need.scope === 'fs.read' && implicitReads.includes(need.path)) continue;
    // A denial counts whenever the app asked; one of Node's own (no call site: the module resolver
    // reading the app's folder at start-up, which it gets by without) is noise like an audit-mode check.
    if ((!e.denied || e.sites.length === 0) && isNoise(e, kindOf)) continue;
    newNeeds.push({ permission: e.permission, resource: e.resource, sites: e.sites, count: e.count, first: e.first, last: e.last, seenIn: e.seenIn.length, denied: e.denied });
  }
  const unused = grants.filter((g) => !used.has(g)).map(flagOf);
  return { newNeeds, unused, records: merged.files.length, ...(merged.first !== undefined ? { first: merged.first } : {}), ...(merged.last !== undefined ? { last: merged.last } : {}) };
}
