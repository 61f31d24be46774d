// A committed profile compared with merged records: what the records saw that it lacks, and the reverse. Pure.
import type { Capabilities } from '../node-versions.js';
import { needOf } from '../denials.js';
import { findCovering, type Grant } from '../grants.js';
import { entryDenial, type MergedEntry, type MergedRecords } from './merge.js';

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
    newNeeds.push({
      permission: e.permission,
      resource: e.resource,
      sites: e.sites,
      count: e.count,
      first: e.first,
      last: e.last,
      seenIn: e.seenIn.length,
      denied: e.denied,
    });
  }
  const unused = grants.filter((g) => !used.has(g)).map(flagOf);
  return {
    newNeeds,
    unused,
    records: merged.files.length,
    ...(merged.first !== undefined ? { first: merged.first } : {}),
    ...(merged.last !== undefined ? { last: merged.last } : {}),
  };
}
