// Relative paths: where a project is (its root and the cwd inside it), moving a path of a project
// learned in one place to where the project is now, and writing a path relative to the cwd. The
// trailing-slash, `.` and `./` rules are here once. Pure.
import path from 'node:path';
import { isSameOrUnder, splitTrailingSlash } from './segments.js';

/** Where an app runs: its cwd and the project folder around it (the cwd or above). */
export interface Layout {
  cwd: string;
  root: string;
}

export interface RelativeOptions {
  /** Write a path below the cwd as `./x` (a grant, which Node would otherwise not read as a path) rather than `x`. */
  dotSlash?: boolean;
}

/** The project root of a profile learned in `fromCwd`, if its cwd sits in its project as `to.cwd` sits in `to.root`. */
export function projectRootOf(fromCwd: string, to: Layout): string {
  return path.resolve(fromCwd, path.relative(to.cwd, to.root));
}

/** `p` (absolute) under `fromRoot` moved to the same place under `toRoot`; anything else unchanged. A trailing `/` stays. */
export function movePath(p: string, fromRoot: string, toRoot: string): string {
  if (fromRoot === toRoot) return p;
  const [bare, slash] = splitTrailingSlash(p);
  if (!isSameOrUnder(bare, fromRoot)) return p;
  return `${path.join(toRoot, path.relative(fromRoot, bare))}${slash}`;
}

/**
 * `p` (absolute) as seen from `layout.cwd`: the cwd itself is `.`, a path below it `./x` (or `x`
 * without `dotSlash`), a path elsewhere in the project `../x`; undefined outside the project. A
 * trailing `/` stays (`./`, `./cache/`). A relative `p` is returned as it is.
 */
export function relativePath(p: string, layout: Layout, opts: RelativeOptions = {}): string | undefined {
  if (!path.isAbsolute(p)) return p;
  const [given, slash] = splitTrailingSlash(p);
  const bare = path.resolve(given);
  const cwd = path.resolve(layout.cwd);
  let rel: string;
  if (isSameOrUnder(bare, cwd)) {
    const r = path.relative(cwd, bare);
    rel = r === '' ? '.' : opts.dotSlash ? `./${r}` : r;
  } else if (isSameOrUnder(bare, path.resolve(layout.root))) {
    rel = path.relative(cwd, bare);
  } else {
    return undefined;
  }
  return `${rel}${slash}`;
}
