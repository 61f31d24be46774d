// Which denials of a run to act on, and which a grant already answers: pure choices over one run's evidence.
import type { Denial, FsProbe } from '../types.js';
import { dedupeDenials, fsScopeOf, isSpurious } from '../denials.js';
import { GrantSet, findCovering, isFsScope, type Grant } from '../grants.js';
import { resourcePath } from '../paths/index.js';
import type { RunResult } from './types.js';
import { runSucceeded } from './outcome.js';
import { isMissingRemoval } from '../tighten.js';

/**
 * The denials to act on after a run. Errors that escaped the app come first; then errors it
 * printed itself; if the run failed with neither, the checks the diagnostics channels saw that
 * app code (not Node's package-scope lookups) made, and the denials caught coming out of fs calls. Without the recorder there is no evidence at all.
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
  // A channel check with no call site of the app's is Node's own package-scope lookup; a denial that came
  // out of a wrapped fs function is the app's call even when Node made it on a later tick, where no app
  // frame is left (the callback form of fs.realpath lstat-s each folder in a nextTick loop).
  const channel = pick('channel').filter((d) => d.site !== undefined);
  return dedupeDenials([...channel, ...pick('caught')]).filter((d) => !isSpurious(d));
}

/** A read denied on a path that does not exist (now): a lookup, not a file the app uses. */
export function readsMissing(d: Denial, fs: FsProbe): boolean {
  return d.permission === 'FileSystemRead' && d.resource !== '' && fs.kind(resourcePath(d)) === 'missing';
}

/**
 * When the denials to act on are ones the app caught (it failed, but nothing escaped), reads of paths
 * that do not exist are lookups it handled (a config search, `node_modules/@types` in every folder up to
 * `/`): act on the others first. Only if nothing else is left are those granted. `grantable` says which of
 * the others could be granted at all: a run whose only other denials are set aside (Node's compile cache,
 * a /proc path) failed for one of its lookups, since `fs.existsSync` throws when denied.
 */
export function preferPresent(denials: Denial[], fs: FsProbe, grantable: (d: Denial) => boolean = () => true): Denial[] {
  const lookup = (d: Denial) => (d.source === 'caught' || d.source === 'channel') && readsMissing(d, fs);
  const rest = denials.filter((d) => !lookup(d));
  return rest.some(grantable) ? rest : denials;
}

/**
 * A needed read of a path that does not exist: the other missing paths looked up from the same call
 * site in the first run (the rest of a config-file search, say), which the app will need next. The
 * same site reached from another caller is another search (`sameAsker`).
 */
export function siblingLookups(needed: readonly Denial[], lookups: readonly Denial[], grants: readonly Grant[], fs: FsProbe): Denial[] {
  const askers = needed.filter((d) => d.site !== undefined && readsMissing(d, fs));
  if (askers.length === 0) return [];
  const taken = new Set(needed.map((d) => resourcePath(d)));
  const index = GrantSet.view(grants);
  return dedupeDenials(
    lookups.filter((l) => l.site !== undefined && askers.some((d) => sameAsker(d, l)) && !taken.has(resourcePath(l)) && !isCoveredDenial(l, index)),
  );
}

/**
 * Two checks asked for by the same code: one call site (without its column) and, when the recorder saw
 * the frames above both, the same caller of it (file:line). A helper that stats a path in a try
 * (`tryStatSync`) is one call site for every search that goes through it: an env-file lookup, a walk
 * up the folders for the nearest package.json and a workspace-root search are told apart by who
 * called the helper. Only the nearest caller counts, so a search that recurses (a deeper frame each
 * folder up) stays one.
 */
export function sameAsker(a: Denial, b: Denial): boolean {
  if (a.site === undefined || b.site === undefined || siteFile(a.site) !== siteFile(b.site)) return false;
  const ca = a.callers?.[0];
  const cb = b.callers?.[0];
  return ca === undefined || cb === undefined || siteFile(ca) === siteFile(cb);
}

/** A call site without its column: the same loop over candidate names can report different columns. */
export function siteFile(site: string): string {
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

/**
 * After a folded verification failed without the candidates it left out: the ones a failed run shows
 * the app needs. Every denial the run acted on must be answered by a left-out grant, and either by one
 * and the same grant or each of them escaped or printed by the app (each one stopped it); otherwise
 * the failure names nothing for certain, and none is returned.
 */
export function provenLeftOut(acted: readonly Denial[], leftOut: readonly Grant[]): Grant[] {
  if (acted.length === 0 || leftOut.length === 0) return [];
  const views = leftOut.map((g) => GrantSet.view([g]));
  const covering: Grant[] = [];
  for (const d of acted) {
    const i = views.findIndex((v) => isCoveredDenial(d, v));
    if (i < 0) return [];
    covering.push(leftOut[i]!);
  }
  const distinct = [...new Set(covering)];
  const stopped = acted.every((d) => d.source === 'uncaught' || d.source === 'logged');
  return distinct.length === 1 || stopped ? distinct : [];
}

/** A read grant of a path the app may also write (its own state, read back on a later start). */
export function ownState(grants: readonly Grant[]): (g: Grant) => boolean {
  // A write whose only evidence is removing what was not there made no state to read back.
  const writes = grants.filter((w) => w.scope === 'fs.write' && w.path !== undefined && !(w.denials.length > 0 && w.denials.every(isMissingRemoval)));
  const index = GrantSet.view(writes);
  const written = new Set(writes.map((w) => w.path));
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
