// The fallback chase: an app denied a native addon (or WASI) often does not fail at once. Its loader
// catches the denial and tries something else first (a WASM build, another package, a download into
// a cache folder), and each of those attempts is denied in turn. Granting them all would leave the
// profile with grants that only the fallback path uses; once the addon is granted, the loader takes
// its primary path and never goes there. This file finds those grants so that the learn loop can set
// them aside until a later run shows one is needed after all.
import type { Denial } from './types.js';
import type { RunResult } from './learn/index.js';
import { denialKey } from './denials.js';
import { isFsScope, type Grant } from './grants.js';
import { packageDirOf } from './paths/widen.js';

/** A capability denial that makes a loader look elsewhere: an addon, or a WASI instance. */
export function isLoaderDenial(d: Denial): boolean {
  return d.code === 'ERR_DLOPEN_DISABLED' || d.permission === 'Addon' || d.permission === 'WASI';
}

/**
 * A loader denial that refused the load. An addon check an audit run only published (26's audit mode lets
 * the addon load: what follows is the app's main line, rollup writing its bundle) refused nothing; a
 * refusal is thrown, as ERR_DLOPEN_DISABLED (24's audit mode, and every enforce run).
 */
function isRefusal(d: Denial): boolean {
  return isLoaderDenial(d) && !(d.permission === 'Addon' && d.source === 'channel' && d.code !== 'ERR_DLOPEN_DISABLED');
}

function threadOf(d: Denial): string {
  return d.thread ?? 'main';
}

/** The package a denial's call site is in ('' for the app's own code), or undefined without a call site. */
function sitePackage(d: Denial): string | undefined {
  if (d.site === undefined) return undefined;
  return packageDirOf(d.site.replace(/(:\d+){1,2}$/, '')) ?? '';
}

/**
 * The file-system grants of `added` whose every piece of evidence was reported, in the same thread,
 * after a loader denial of the run (`reported`, in the order the recorder reported it) and never before
 * it, and was asked for by the loader's own package or by a package the thread had not touched before
 * the denial (a WASM build it fell back to): the paths the app went to because the addon was refused;
 * and a child process started after the refusal by such a package, never by the app's own code (an
 * installer the loader runs to fetch the binding it could not load: napi-postinstall under unrs-resolver).
 * What a package already at work before the refusal does next (a build tool writing its output after
 * its CSS minifier's addon was refused) is its main line, not the fallback. Grants with evidence from
 * before the denial, from another thread, or with no evidence at all are never picked.
 */
export function fallbackGrants(added: readonly Grant[], reported: readonly Denial[]): { grants: Grant[]; trigger?: Denial } {
  const first = new Map<string, number>();
  reported.forEach((d, i) => {
    if (isRefusal(d) && !first.has(threadOf(d))) first.set(threadOf(d), i);
  });
  if (first.size === 0) return { grants: [] };
  const before = new Set<string>();
  const after = new Set<string>();
  // Per thread: the packages at work before the loader denial (by call site or by path read).
  const busy = new Set<string>();
  reported.forEach((d, i) => {
    const at = first.get(threadOf(d));
    const key = `${threadOf(d)}\u0000${denialKey(d)}`;
    if (at !== undefined && i > at) after.add(key);
    else {
      before.add(key);
      if (at !== undefined && i < at) {
        const site = sitePackage(d);
        if (site !== undefined) busy.add(`${threadOf(d)}\u0000${site}`);
        const read = d.resource ? packageDirOf(d.resource) : undefined;
        if (read !== undefined) busy.add(`${threadOf(d)}\u0000${read}`);
      }
    }
  });
  const loaderOf = new Map([...first].map(([thread, i]) => [thread, sitePackage(reported[i]!)]));
  const fallback = (d: Denial): boolean => {
    const loader = loaderOf.get(threadOf(d));
    const own = sitePackage(d);
    if (loader === undefined || own === undefined || own === loader) return true;
    return !busy.has(`${threadOf(d)}\u0000${own}`);
  };
  // A child process started by a dependency (never the app's own code, whose next step after a refused
  // loader is as likely its main line): denied or published after the refusal like a file (24's audit run), or one an
  // observe run saw started (not a denial, so not in `reported`) at or after the refusal by the time
  // both were reported (an installer the loader runs to fetch the binding it lacks).
  const refusedAt = reported[Math.min(...first.values())]?.time;
  const startedAfter = (d: Denial): boolean =>
    d.permission === 'ChildProcess' && d.source === 'loaded' && d.time !== undefined && refusedAt !== undefined && d.time >= refusedAt;
  const grants = added.filter(
    (g) =>
      (isFsScope(g.scope) || g.scope === 'child') &&
      g.denials.length > 0 &&
      g.denials.every((d) => {
        const key = `${threadOf(d)}\u0000${denialKey(d)}`;
        if (g.scope === 'child') return sitePackage(d) !== '' && ((after.has(key) && !before.has(key)) || startedAfter(d)) && fallback(d);
        return after.has(key) && !before.has(key) && fallback(d);
      }),
  );
  const trigger = reported[Math.min(...first.values())];
  return { grants, ...(trigger ? { trigger } : {}) };
}

/**
 * A run that failed with no denial in what ended it: the error that escaped (or was printed) was not
 * Node's, so something caught the denial and threw an error of its own.
 */
export function failureHidesItsCause(r: RunResult): boolean {
  if (r.outcome !== 'exited' || r.exitCode === 0) return false;
  const explained = r.denials.some((d) => d.source === 'uncaught' || d.source === 'logged');
  return !explained && r.denials.some((d) => d.source === 'caught' || d.source === 'channel');
}

/**
 * The denials of a failed run that are its cause and not something the app got by without, so that
 * tightening does not count them as soft evidence: when the failure carries no denial of its own
 * (failureHidesItsCause), the ones a loader turned into its own error (an addon, WASI, any denial the
 * recorder saw leave a require() call, such as the newest builds' read check of an addon file in the
 * resolver's realpath) and those of a Worker or a Node child, whose owner in the main thread
 * reported the failure in its own words. A trial without them is known to fail: on napi-rs's loader
 * (22, newest 24) and pino's Worker transport (22) it cost one failed verification run each. Denials
 * the main thread caught itself stay soft: which of them it could not do without is for the trials.
 */
export function hiddenCauses(r: RunResult): (d: Denial) => boolean {
  if (!failureHidesItsCause(r)) return () => false;
  const loader = new Set(r.denials.filter((d) => isLoaderDenial(d) || d.via !== undefined).map(denialKey));
  return (d) => loader.has(denialKey(d)) || d.thread === 'worker' || d.thread === 'child';
}
