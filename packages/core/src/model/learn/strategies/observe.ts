// `observe`: enforce runs that may also read the whole app root (and start children and Workers); the
// recorder lists what the app loaded and read, and that primes the grants.
import type { Denial, FsProbe } from '../../types.js';
import type { Capabilities } from '../../node-versions.js';
import { dedupeDenials } from '../../denials.js';
import { findCovering, type Grant } from '../../grants.js';
import type { LoadedFile, Use } from '../../parse-events.js';
import type { RunResult } from '../types.js';
import { runSucceeded } from '../outcome.js';
import { preferPresent, selectDenials } from '../candidates.js';
import type { PrimeStrategy, StrategyEntry } from './types.js';

/** Observe runs in a row at most, while each fails on a denial outside the root and teaches a grant. */
const MAX_OBSERVE_RUNS = 8;

export const observe: StrategyEntry = {
  unavailable: ({ root, rootTooBroad }) =>
    rootTooBroad ? `would let the app read ${root} (${rootTooBroad}); put the app in a folder with a package.json` : undefined,
  prime: ({ root }) => observing(root),
};

/** The observe strategy for an app whose root (the wide read grant of its runs) is `root`. */
function observing(root: string): PrimeStrategy {
  return {
    name: 'observe',
    phase: 'observe',
    // An observe run sees everything up to the first denial outside what it may do; while it fails on
    // one and that teaches a new grant, observe again with it (it sees further than an enforce run).
    maxRounds: MAX_OBSERVE_RUNS,
    // A denial the app survived under the wide grant shows no need by itself.
    survivedIsSoft: true,
    extraGrants: (grants) => {
      const wide: Grant = { scope: 'fs.read', path: root, kind: 'dir', denials: [], notes: [] };
      // Child processes and Workers too, so that the run gets past them; the recorder notes their use.
      const extra: Grant[] = [wide];
      for (const scope of ['child', 'worker'] as const) if (!findCovering(grants, scope)) extra.push({ scope, denials: [], notes: [] });
      return extra;
    },
    candidates: (r, opts) => {
      const implicit = new Set(opts.implicitReadGrants ?? []);
      return observeCandidates(r, root, opts.caps, opts.fs).filter((d) => !implicit.has(d.resource));
    },
    seen: (r) => ({
      observed: [],
      lookups: (r.missing ?? []).map((m) => ({
        permission: 'FileSystemRead',
        resource: m.file,
        code: 'ERR_ACCESS_DENIED',
        source: 'loaded',
        existed: false,
        ...(m.from ? { site: m.from } : {}),
        ...(m.from && m.callers ? { callers: m.callers } : {}),
        ...(m.api ? { message: `looked up with fs.${m.api}()`, call: m.api } : {}),
      })),
    }),
    doneEvent: (r, run, candidates) => ({ type: 'observe-done', run, modules: r.modules?.length ?? 0, candidates: candidates.length, root }),
    // Another observe run pays off whenever a denial it learned from cut this one short: a read outside
    // the root, a capability, or a write (the wide grant covers none of them). An enforce run after a
    // denied write costs the same one run but sees less: a lookup of a missing path that the app does
    // not survive denied (Babel's config search, an existsSync per name, run before it writes) would
    // cost one enforce run each, while the next observe run sees the whole search, and when it runs to
    // the end its evidence is complete, so the verification run confirms it.
    again: (r, learnedMore) => !runSucceeded(r) && learnedMore,
  };
}

/**
 * What an observe run suggests granting: every module file it loaded, and on 22+ (where the loader
 * checks them) the package.json of each package those files belong to; plus whatever was denied
 * outside the wide grant. Each becomes evidence of source 'loaded'.
 */
export function observeCandidates(r: RunResult, root: string, caps: Capabilities, fs: FsProbe): Denial[] {
  const cwd = root;
  const read = ({ file, from, callers, hits, api }: LoadedFile): Denial => ({
    permission: 'FileSystemRead',
    resource: file,
    code: 'ERR_ACCESS_DENIED',
    source: 'loaded',
    cwd,
    // The requiring file (or the fs call) is the call site, as for a denial of the same read.
    ...(from ? { site: from } : {}),
    ...(from && callers ? { callers } : {}),
    ...(hits !== undefined ? { hits } : {}),
    // The fs function, as an audit run's channel names it: a folder checked by a metadata call alone is
    // tried narrowed (narrow.ts).
    ...(api ? { message: `read with fs.${api}()`, call: api } : {}),
  });
  const PERMISSION_OF_USE = { child: 'ChildProcess', worker: 'WorkerThreads' } as const;
  const use = (u: Use): Denial => ({
    permission: PERMISSION_OF_USE[u.scope],
    resource: '',
    code: 'ERR_ACCESS_DENIED',
    source: 'loaded',
    hits: u.hits,
    ...(u.site ? { site: u.site } : {}),
    ...(u.api ? { message: `started with ${u.api}()` } : {}),
    ...(u.time !== undefined ? { time: u.time } : {}),
  });
  const out: Denial[] = [];
  const packages = new Map<string, LoadedFile>();
  for (const loaded of r.modules ?? []) {
    // A Node child's own entry point: on 22+ the child reads it under the grant Node gives every
    // process for its entry (the path it was started with), so it needs none of the app's. 20 has no
    // such grant (a forked child is denied its entry).
    if (loaded.ownEntry && caps.autoGrantsEntry) continue;
    // A native addon's file: Node reads it for the resolver's realpath alone, a check only the newest
    // builds make (addon-read.ts); --allow-addons is the grant it needs everywhere else.
    if (!loaded.file.endsWith('.node') || caps.resolverChecksAddonRead) out.push(read(loaded));
    const m = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(loaded.file);
    if (m && caps.autoGrantsEntry && !packages.has(`${m[1]}/package.json`)) packages.set(`${m[1]}/package.json`, { ...loaded, file: `${m[1]}/package.json` });
  }
  // 22+ checks every package.json the resolver looks at, including ones that do not exist.
  // The resolver skips a node_modules folder that does not exist, so only probes inside existing ones count.
  if (caps.autoGrantsEntry) {
    for (const pj of r.probes ?? []) {
      const nm = /^(.*\/node_modules)\/(?:@[^/]+\/)?[^/]+\/package\.json$/.exec(pj.file);
      if (!nm || fs.kind(nm[1]!) === 'dir') out.push(read(pj));
    }
  }
  // Manifests no probe named (a package reached some other way): the package of each loaded file, 22+.
  for (const pj of packages.values()) if (fs.kind(pj.file) === 'file') out.push(read(pj));
  // Files the app read itself, and the child processes and Workers it started.
  for (const t of r.touched ?? []) out.push(read(t));
  for (const u of r.uses ?? []) out.push(use(u));
  // A Worker started outside the permission model is still a start the main thread needs --allow-worker for.
  for (const u of r.unbound ?? []) out.push(use({ scope: 'worker', api: 'new Worker', hits: u.hits, ...(u.site ? { site: u.site } : {}) }));
  // Denials outside the wide grant are real needs too.
  out.push(...preferPresent(selectDenials(r), fs));
  return dedupeDenials(out);
}
