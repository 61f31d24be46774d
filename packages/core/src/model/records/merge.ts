// Many record files merged (instances of a service, days of traffic), and what they saw as denials for
// the learn loop's grant planning. Pure.
import { parsePermission, type Denial } from '../types.js';
import type { Capabilities } from '../node-versions.js';
import { needOf } from '../denials.js';
import { findCovering, type Grant, type GrantTarget } from '../grants.js';
import type { RecordFile, DroppedNeeds } from './parse.js';

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
    ...(first !== undefined ? { first } : {}),
    ...(last !== undefined ? { last } : {}),
    unseen,
  };
}

/**
 * The records as the denials an audit run would have reported (source `channel`), for the learn loop's
 * own grant planning: the same generalisation and breadth rule as a learned profile.
 */
export function recordDenials(merged: MergedRecords): Denial[] {
  return merged.entries.map((e) => ({
    ...parsePermission(e.permission),
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
export function seenInRecords(grant: GrantTarget, merged: MergedRecords, caps: Capabilities): { runs: number; of: number; first?: number; last?: number } {
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

/** One merged entry as the denial the learn loop plans from. */
export function entryDenial(e: MergedEntry): Denial {
  return {
    ...parsePermission(e.permission),
    resource: e.resource,
    ...(e.cwd !== undefined ? { cwd: e.cwd } : {}),
    code: 'ERR_ACCESS_DENIED',
    source: 'channel',
  };
}

/** `seen in 3 of 4 records, 2026-11-30T10:00:00.000Z to 2026-12-01T09:00:00.000Z`. */
export function describeSeenIn(seen: { runs: number; of: number; first?: number; last?: number }): string {
  const period =
    seen.first !== undefined && seen.last !== undefined ? `, first ${new Date(seen.first).toISOString()}, last ${new Date(seen.last).toISOString()}` : '';
  return `seen in ${seen.runs} of ${seen.of} record${seen.of === 1 ? '' : 's'}${period}`;
}

/** What the records could not vouch for, one sentence each (for a profile's warnings and check --records). */
export function recordsCaveats(merged: MergedRecords): string[] {
  const out: string[] = [];
  if (merged.rejected.length)
    out.push(
      `${merged.rejected.length} record file${merged.rejected.length === 1 ? '' : 's'} failed the key check and ${merged.rejected.length === 1 ? 'was' : 'were'} ignored: ${merged.rejected.map((f) => `${f.name} (${f.rejected})`).join(', ')}`,
    );
  if (merged.forged)
    out.push(
      `${merged.forged} record line${merged.forged === 1 ? '' : 's'} failed the key check (not written by the recorder) and ${merged.forged === 1 ? 'was' : 'were'} ignored`,
    );
  if (merged.unchecked)
    out.push(
      `${merged.unchecked} of ${merged.files.length} records ${merged.unchecked === 1 ? 'was' : 'were'} not checked against a key (none given: PERMLEARN_RECORD_KEY or <folder>.key), so anything that could write there could have added to them`,
    );
  if (merged.duplicates) out.push(`${merged.duplicates} record file${merged.duplicates === 1 ? ' was a copy' : 's were copies'} of another and counted once`);
  for (const d of merged.dropped) {
    out.push(
      `${d.count} check${d.count === 1 ? '' : 's'}${d.permission ? ` of ${d.permission}` : ''} came past a recorder's cap of distinct entries and ${d.count === 1 ? 'is' : 'are'} not in the records${d.under.length ? ` (under ${d.under.join(', ')})` : ''}: the profile may lack ${d.count === 1 ? 'that need' : 'those needs'} (raise PERMLEARN_RECORD_MAX)`,
    );
  }
  return out;
}
