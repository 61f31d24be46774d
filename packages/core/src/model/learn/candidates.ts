// Which denials of a run to act on, and which a grant already answers: pure choices over one run's evidence.
import type { Denial, FsProbe } from '../types.js';
import type { Capabilities } from '../node-versions.js';
import { dedupeDenials, fsScopeOf, isSpurious } from '../denials.js';
import { GrantSet, findCovering, isFsScope, type Grant } from '../grants.js';
import { resourcePath } from '../paths/index.js';
import type { LoadedFile, Use } from '../parse-events.js';
import type { RunResult } from './types.js';
import { runSucceeded } from './outcome.js';

/**
 * The denials to act on after a run. Errors that escaped the app come first; then errors it
 * printed itself; if the run failed with neither, the checks the diagnostics channels saw that
 * app code (not Node's package-scope lookups) made. Without the recorder there is no evidence at all.
 */
export function selectDenials(r: RunResult): Denial[] {
  // Only what the recorder reported is evidence: without it (a command that ran no Node process), stderr
  // text is anyone's to print, and nothing is granted on it.
  if (!r.recorderLoaded) return [];
  const pick = (source: Denial['source']): Denial[] => dedupeDenials(r.denials.filter((d) => d.source === source));
  const uncaught = pick('uncaught');
  if (uncaught.length) return uncaught;
  if (runSucceeded(r)) return [];
  const logged = pick('logged');
  if (logged.length) return logged;
  return dedupeDenials([...pick('channel'), ...pick('caught')]).filter((d) => !isSpurious(d) && d.site !== undefined);
}

/** A read denied on a path that does not exist (now): a lookup, not a file the app uses. */
export function readsMissing(d: Denial, fs: FsProbe): boolean {
  return d.permission === 'FileSystemRead' && d.resource !== '' && fs.kind(resourcePath(d)) === 'missing';
}

/**
 * When the denials to act on are ones the app caught (it failed, but nothing escaped), reads of paths
 * that do not exist are lookups it handled (a config search, `node_modules/@types` in every folder up to
 * `/`): act on the others first. Only if nothing else is left are those granted.
 */
export function preferPresent(denials: Denial[], fs: FsProbe): Denial[] {
  const lookup = (d: Denial) =>
    (d.source === 'caught' || d.source === 'channel') && readsMissing(d, fs);
  const rest = denials.filter((d) => !lookup(d));
  return rest.length > 0 ? rest : denials;
}


/**
 * What an audit run suggests granting: every check the channels published, less the noise. A
 * directory read is left out: Node publishes one for the package scope of every module it loads,
 * and an app that really lists a directory is caught by the enforce runs that follow.
 */
export function auditCandidates(r: RunResult, fs: FsProbe): Denial[] {
  // A lookup of a file the same run writes is the app's own state, read back on its next start.
  const written = new Set(r.denials.filter((d) => d.permission === 'FileSystemWrite' && d.resource !== '').map((d) => resourcePath(d)));
  // 'caught' in an audit run: what Node blocks even in audit mode (an addon on 24), reported at the source.
  return dedupeDenials(r.denials.filter((d) => (d.source === 'channel' || d.source === 'caught') && !isSpurious(d))).filter((d) => {
    if (d.permission !== 'FileSystemRead' || d.resource === '') return true;
    const abs = resourcePath(d);
    return fs.kind(abs) !== 'dir' && (!isIdleProbe(d) || written.has(abs));
  });
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

/**
 * What an observe run suggests granting: every module file it loaded, and on 22+ (where the loader
 * checks them) the package.json of each package those files belong to; plus whatever was denied
 * outside the wide grant. Each becomes evidence of source 'loaded'.
 */
export function observeCandidates(r: RunResult, root: string, caps: Capabilities, fs: FsProbe): Denial[] {
  const cwd = root;
  const read = ({ file, from, hits, api }: LoadedFile): Denial => ({
    permission: 'FileSystemRead',
    resource: file,
    code: 'ERR_ACCESS_DENIED',
    source: 'loaded',
    cwd,
    // The requiring file (or the fs call) is the call site, as for a denial of the same read.
    ...(from ? { site: from } : {}),
    ...(hits !== undefined ? { hits } : {}),
    ...(api ? { message: `read with fs.${api}()` } : {}),
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
  });
  const out: Denial[] = [];
  const packages = new Map<string, LoadedFile>();
  for (const loaded of r.modules ?? []) {
    out.push(read(loaded));
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
  // Denials outside the wide grant are real needs too.
  out.push(...preferPresent(selectDenials(r), fs));
  return dedupeDenials(out);
}


/**
 * A needed read of a path that does not exist: the other missing paths looked up from the same call
 * site in the first run (the rest of a config-file search, say), which the app will need next.
 */
export function siblingLookups(needed: readonly Denial[], lookups: readonly Denial[], grants: readonly Grant[], fs: FsProbe): Denial[] {
  const sites = new Set(
    needed
      .filter((d) => d.site !== undefined && readsMissing(d, fs))
      .map((d) => siteFile(d.site!)),
  );
  if (sites.size === 0) return [];
  const taken = new Set(needed.map((d) => resourcePath(d)));
  const index = GrantSet.view(grants);
  return dedupeDenials(
    lookups.filter((l) => l.site !== undefined && sites.has(siteFile(l.site)) && !taken.has(resourcePath(l)) && !isCoveredDenial(l, index)),
  );
}

/** A call site without its column: the same loop over candidate names can report different columns. */
function siteFile(site: string): string {
  return site.replace(/:\d+$/, '');
}

/**
 * What a run that started cleanly was denied all the same, by the app's own code: caught denials and
 * checks the channels published with a call site, less Node's package-scope lookups, the Worker
 * Inspector event, lookups of missing paths, and what a grant already covers.
 */
export function caughtRequests(r: RunResult, grants: readonly Grant[], fs: FsProbe): Denial[] {
  const index = GrantSet.view(grants);
  return dedupeDenials(
    r.denials.filter(
      (d) =>
        (d.source === 'caught' || d.source === 'channel' || d.source === 'logged') &&
        d.site !== undefined &&
        !isSpurious(d) &&
        !isScopeLookup(d, index) &&
        !isCoveredDenial(d, index) &&
        !readsMissing(d, fs),
    ),
  );
}

/** A read grant of a path the app may also write (its own state, read back on a later start). */
export function ownState(grants: readonly Grant[]): (g: Grant) => boolean {
  const index = GrantSet.view(grants);
  const written = new Set(grants.filter((w) => w.scope === 'fs.write' && w.path !== undefined).map((w) => w.path));
  return (g) => g.scope === 'fs.read' && g.path !== undefined && (written.has(g.path) || findCovering(index, 'fs.write', g.path) !== undefined);
}

/** Denials no grant answers, less Node's package-scope lookups. */
export function notGranted(denials: readonly Denial[], grants: readonly Grant[]): Denial[] {
  const index = GrantSet.view(grants);
  return denials.filter((d) => !isCoveredDenial(d, index) && !isScopeLookup(d, index));
}

/** A read of a directory above a granted file: Node's package-scope lookup for a module it loaded. */
export function isScopeLookup(d: Denial, grants: GrantSet): boolean {
  if (d.permission !== 'FileSystemRead' || d.resource === '') return false;
  return grants.hasBelow('fs.read', resourcePath(d));
}

export function isCoveredDenial(d: Denial, grants: GrantSet): boolean {
  const scope = fsScopeOf(d.permission);
  if (scope) {
    return d.resource !== '' && findCovering(grants, scope, resourcePath(d)) !== undefined;
  }
  return grants.capabilities().some((g) => !isFsScope(g.scope) && g.denials.some((x) => x.permission === d.permission));
}

