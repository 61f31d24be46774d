// Matching: how Node reads a grant's path (its syntax and what it covers), when one grant makes
// another redundant, and Node's radix-tree quirk between sibling grants. Pure.
import type { PathKind } from '../types.js';
import { isSameOrUnder, isStrictlyUnder } from './segments.js';

/** The parts of a grant that matching looks at (a capability grant has no path). */
export type PathGrant = { path: string; kind: PathKind } | { path?: undefined; kind?: undefined };

/** Render a grant's path the way Node must be given it. */
export function renderGrantPath(absPath: string, kind: PathKind): string {
  if (kind === 'created-dir') return absPath.endsWith('/') ? `${absPath}*` : `${absPath}/*`;
  if (kind === 'prefix') return `${absPath}*`;
  return absPath;
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
 * Whether grant `a` makes grant `b` (same scope, a different key) redundant: everything `b` reaches,
 * `a` reaches too. On one path `D/*` covers `D` and not the other way round, so that exactly one of
 * the two survives normalisation.
 */
export function coversGrant(a: PathGrant, b: PathGrant): boolean {
  if (a.path === undefined || b.path === undefined) return false;
  const aKind = a.kind;
  const bKind = b.kind;
  const aSubtree = aKind === 'dir' || aKind === 'created-dir';
  if (bKind === 'prefix') {
    // `/x/a*` reaches `/x/ab`: only a directory strictly above it, or a shorter prefix, covers all of that.
    return (aSubtree && isStrictlyUnder(b.path, a.path)) || (aKind === 'prefix' && b.path.startsWith(a.path));
  }
  if (bKind === 'dir' || bKind === 'created-dir') {
    if (a.path === b.path) return aKind === 'created-dir' && bKind === 'dir';
    return (aSubtree && isStrictlyUnder(b.path, a.path)) || (aKind === 'prefix' && grantCovers(a.path, aKind, b.path));
  }
  return grantCovers(a.path, aKind, b.path);
}

/**
 * Whether grant `a` takes in grant `b`'s own path: the same path and kind, or `b`'s path inside `a`.
 * Looser than coversGrant on purpose (`/x/a` takes in `/x/a*` and `/x/a/*`): this is the question
 * `check` asks when it matches a committed grant with a fresh one, where "is this grant still used" and
 * "is this grant new" must not turn on `D` against `D/*`, the same folder either way.
 */
export function takesInGrant(a: PathGrant, b: PathGrant): boolean {
  if (a.path === b.path && a.kind === b.kind) return true;
  return a.path !== undefined && b.path !== undefined && grantCovers(a.path, a.kind, b.path);
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
