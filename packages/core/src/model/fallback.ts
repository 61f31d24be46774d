// The fallback chase: an app denied a native addon (or WASI) often does not fail at once. Its loader
// catches the denial and tries something else first (a WASM build, another package, a download into
// a cache folder), and each of those attempts is denied in turn. Granting them all would leave the
// profile with grants that only the fallback path uses; once the addon is granted, the loader takes
// its primary path and never goes there. This file finds those grants so that the learn loop can set
// them aside until a later run shows one is needed after all.
import type { Denial } from './types.js';
import { denialKey } from './denials.js';
import { isFsScope, type Grant } from './grants.js';

/** A capability denial that makes a loader look elsewhere: an addon, or a WASI instance. */
export function isLoaderDenial(d: Denial): boolean {
  return d.code === 'ERR_DLOPEN_DISABLED' || d.permission === 'Addon' || d.permission === 'WASI';
}

function threadOf(d: Denial): string {
  return d.thread ?? 'main';
}

/**
 * The file-system grants of `added` whose every piece of evidence was reported, in the same thread,
 * after a loader denial of the run (`reported`, in the order the recorder reported it) and never before
 * it: the paths the app went to because the addon was refused. Grants with evidence from before the
 * denial, from another thread, or with no evidence at all are never picked.
 */
export function fallbackGrants(added: readonly Grant[], reported: readonly Denial[]): { grants: Grant[]; trigger?: Denial } {
  const first = new Map<string, number>();
  reported.forEach((d, i) => {
    if (isLoaderDenial(d) && !first.has(threadOf(d))) first.set(threadOf(d), i);
  });
  if (first.size === 0) return { grants: [] };
  const before = new Set<string>();
  const after = new Set<string>();
  reported.forEach((d, i) => {
    const at = first.get(threadOf(d));
    const key = `${threadOf(d)}\u0000${denialKey(d)}`;
    if (at !== undefined && i > at) after.add(key);
    else before.add(key);
  });
  const grants = added.filter(
    (g) =>
      isFsScope(g.scope) &&
      g.denials.length > 0 &&
      g.denials.every((d) => {
        const key = `${threadOf(d)}\u0000${denialKey(d)}`;
        return after.has(key) && !before.has(key);
      }),
  );
  const trigger = reported[Math.min(...first.values())];
  return { grants, ...(trigger ? { trigger } : {}) };
}
