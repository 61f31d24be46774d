// `audit`: one run under --permission-audit (Node 24+), where nothing is denied and every check is
// reported; what it saw primes the grants, and the enforce runs confirm them.
import type { Denial, FsProbe } from '../../types.js';
import type { Capabilities } from '../../node-versions.js';
import { addonFileReads } from '../../addon-read.js';
import { dedupeDenials, isSpurious } from '../../denials.js';
import { resourcePath } from '../../paths/index.js';
import type { RunResult } from '../types.js';
import { runSucceeded } from '../outcome.js';
import type { PrimeStrategy, StrategyEntry } from './types.js';

const AUDIT: PrimeStrategy = {
  name: 'audit',
  phase: 'audit',
  // A second audit run only after one that an addon cut short (below).
  maxRounds: 2,
  survivedIsSoft: false,
  extraGrants: () => [],
  candidates: (r, opts) => auditCandidates(r, opts.fs, opts.caps),
  // The lookups of missing paths left out of the candidates are still worth showing.
  seen: (r) => {
    const idle = r.denials.filter((d) => d.source === 'channel' && d.permission === 'FileSystemRead' && isIdleProbe(d));
    return { observed: idle, lookups: idle };
  },
  doneEvent: (r, run, candidates) => ({ type: 'audit-done', run, events: r.denials.length, candidates: candidates.length }),
  // Node 24's audit mode still refuses process.dlopen (ERR_DLOPEN_DISABLED, reported at the source): a
  // build tool whose native addon is refused (rollup) stops there, and the audit sees nothing after it.
  // With the addon granted from that report, audit mode loads it and a second audit run sees the rest;
  // the read of the addon's file, which the newest 24 checks in enforce mode but does not report in
  // audit mode, is granted with it (addon-read.ts), so the folded verification needs nothing more.
  again: (r, learnedMore) => learnedMore && !runSucceeded(r) && r.denials.some((d) => d.code === 'ERR_DLOPEN_DISABLED'),
};

export const audit: StrategyEntry = {
  unavailable: ({ caps }) => (caps.audit ? undefined : `needs Node 24 or later (--permission-audit); ${caps.version.raw} has no audit mode`),
  prime: () => AUDIT,
};

/**
 * What an audit run suggests granting: every check the channels published, less the noise. A
 * directory read is left out unless an fs call of the app made it (it lists or stats the folder):
 * Node's module loader reads one for the package scope of every module it loads, and a read with no
 * call site of the app's cannot be told from those; an app that needs such a folder is caught by the
 * enforce runs that follow. An addon refused (24) comes with the read of its file where this Node's
 * resolver checks it (addon-read.ts).
 */
export function auditCandidates(r: RunResult, fs: FsProbe, caps: Capabilities): Denial[] {
  // A lookup of a file the same run writes is the app's own state, read back on its next start.
  const written = new Set(r.denials.filter((d) => d.permission === 'FileSystemWrite' && d.resource !== '').map((d) => resourcePath(d)));
  // 'caught' in an audit run: what Node blocks even in audit mode (an addon on 24), reported at the source.
  const seen = dedupeDenials(r.denials.filter((d) => (d.source === 'channel' || d.source === 'caught') && !isSpurious(d))).filter((d) => {
    if (d.permission !== 'FileSystemRead' || d.resource === '') return true;
    const abs = resourcePath(d);
    if (fs.kind(abs) === 'dir') return d.site !== undefined && d.loader !== true;
    return !isIdleProbe(d) || written.has(abs);
  });
  return [...seen, ...addonFileReads(seen, caps)];
}

/**
 * A read of something that did not exist when it was checked, outside node_modules: a config-file
 * search (`.prettierrc.*` in every folder up to `/`), an optional file. In enforce mode such a lookup fails as a denial
 * instead of "not found", which apps mostly treat alike; the enforce runs still grant one that turns
 * out to matter (Node's own module resolution, say), at one run each.
 */
export function isIdleProbe(d: Denial): boolean {
  // Inside node_modules a missing path is Node's own module resolution at work (package.json files of
  // nested lookups, extension probing), which 22+ needs granted: those stay.
  return d.existed === false && !d.resource.includes('/node_modules/');
}
