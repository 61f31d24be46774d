// All path comparison lives here: how Node matches a path against a grant, and how far a grant may reach.
import path from 'node:path';
import type { PathKind } from './types.js';

/** Resolve a resource the way Node's check does: against the cwd at the time of the call. */
export function resolveResource(resource: string, cwd: string | undefined): string {
  if (path.isAbsolute(resource)) return path.resolve(resource);
  return path.resolve(cwd ?? process.cwd(), resource);
}

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

/**
 * Does a grant of `grantPath` (of the given kind) allow an access to `target`?
 * This is Node's rule, not a security judgement: directories cover their subtree, `dir/*`
 * covers the directory and its subtree, a prefix covers every path that starts with it
 * (but not the prefix itself), and anything else is an exact match.
 */
export function grantCovers(grantPath: string, kind: PathKind, target: string): boolean {
  switch (kind) {
    case 'dir':
    case 'created-dir':
      return isSameOrUnder(target, grantPath);
    case 'prefix':
      return target !== grantPath && target.startsWith(grantPath);
    default:
      return target === grantPath;
  }
}

/**
 * Node's radix-tree quirk: a lookup of a granted directory's exact path fails when another
 * stored grant has that directory as a strict string prefix, as `/x/ab` has for `/x/a`. Returns those
 * siblings. Grants below `dir` (`/x/a/f` listed before `/x/a`) cause it too, but normalised grants
 * never keep a grant that another one covers, so they are not counted here.
 */
export function prefixConflicts(dir: string, stored: readonly string[]): string[] {
  return stored.filter((other) => other !== dir && other.startsWith(dir) && !isStrictlyUnder(other, dir));
}

/** The number of segments in an absolute path: `/` is 0, `/tmp` is 1. */
export function depth(absPath: string): number {
  return absPath.split('/').filter(Boolean).length;
}

/** Length of the suffix Node's mkdtemp replaces with random characters. */
const MKDTEMP_SUFFIX = 'XXXXXX';

/** The prefix an `mkdtemp` template stands for (`/tmp/app-XXXXXX` → `/tmp/app-`), if it is one. */
export function mkdtempPrefix(resource: string): string | undefined {
  return resource.endsWith(MKDTEMP_SUFFIX) ? resource.slice(0, -MKDTEMP_SUFFIX.length) : undefined;
}

/** Render a grant's path the way Node must be given it. */
export function renderGrantPath(absPath: string, kind: PathKind): string {
  if (kind === 'created-dir') return absPath.endsWith('/') ? `${absPath}*` : `${absPath}/*`;
  if (kind === 'prefix') return `${absPath}*`;
  return absPath;
}
