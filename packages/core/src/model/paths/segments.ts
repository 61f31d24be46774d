// Paths as segments: resolving a resource as Node's check does, and comparing absolute paths on a
// segment boundary (`/app` holds `/app/x`, not `/app2`). Pure: strings in, strings out.
import path from 'node:path';

/** Resolve a resource the way Node's check does: against the cwd at the time of the call. */
export function resolveResource(resource: string, cwd: string): string {
  return isNormalAbsolute(resource) ? resource : path.resolve(cwd, resource);
}

/** An absolute POSIX path that resolving leaves as it is: no empty, `.` or `..` segment, no trailing slash. */
function isNormalAbsolute(p: string): boolean {
  if (path.sep !== '/' || !p.startsWith('/')) return false;
  if (p === '/') return true;
  return !p.endsWith('/') && !p.includes('//') && !p.includes('/./') && !p.includes('/../') && !p.endsWith('/.') && !p.endsWith('/..');
}

/**
 * A denial's resource as an absolute path, against the cwd the recorder sent with it. The recorder
 * sends one with every denial unless the app's cwd was gone (`process.cwd()` threw); a relative
 * resource without one is then taken from `/`, never from permlearn's own cwd, which is not the app's.
 */
export function resourcePath(d: { resource: string; cwd?: string | undefined }): string {
  // Planning asks this of the same denial many times over (its key, its need, what covers it): the
  // answer is kept with the denial, for as long as its resource and cwd are the ones it was worked out from.
  const known = resolved.get(d);
  if (known !== undefined && known.resource === d.resource && known.cwd === d.cwd) return known.path;
  const abs = resolveResource(d.resource, d.cwd ?? '/');
  resolved.set(d, { resource: d.resource, cwd: d.cwd, path: abs });
  return abs;
}

const resolved = new WeakMap<object, { resource: string; cwd: string | undefined; path: string }>();

/** True when `child` is `parent` or lies below it, on a path-segment boundary. */
export function isSameOrUnder(child: string, parent: string): boolean {
  if (child === parent) return true;
  const base = parent.endsWith('/') ? parent : `${parent}/`;
  return child.startsWith(base);
}

/** True when `child` lies strictly below `parent`. */
export function isStrictlyUnder(child: string, parent: string): boolean {
  return child !== parent && isSameOrUnder(child, parent);
}

/** The number of segments in an absolute path: `/` is 0, `/tmp` is 1. */
export function depth(absPath: string): number {
  return absPath.split('/').filter(Boolean).length;
}

/** Every folder strictly above an absolute path, nearest first, `/` excluded. */
export function ancestors(abs: string): string[] {
  const out: string[] = [];
  for (let dir = path.dirname(path.resolve(abs)); dir !== '/'; dir = path.dirname(dir)) out.push(dir);
  return out;
}

/**
 * A path without its trailing slash, and the slash: a prefix grant such as `/x/cache/` keeps its slash
 * through path operations that drop it. `/` is its own bare path.
 */
export function splitTrailingSlash(p: string): [bare: string, slash: '' | '/'] {
  return p.length > 1 && p.endsWith('/') ? [p.slice(0, -1), '/'] : [p, ''];
}
