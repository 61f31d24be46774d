// Path generalisation: how far a grant for one denied (or loaded) file may reach, by policy.
// Pure: the file system is asked through the injected FsProbe.
//
// The policies, from narrowest to widest (`--granularity`):
// - `file`:    every grant names exactly what was used.
// - `dir`:     a file becomes its directory (the app's and its dependencies' alike).
// - `package`: a file of a dependency becomes that package's directory; a file of the app its directory.
// - `deps`:    a file of a dependency becomes the whole `node_modules` folder it is in (the outermost
//              one, inside the project); a file of the app its directory. The default.
// Whatever the policy: reads only (writes keep their exact paths, created folders and mkdtemp
// prefixes); never the project root itself or anything above it; never a directory holding a secret;
// never `/`, a top-level directory or the home directory; a file inside a folder of the temporary
// directory becomes that folder.
import path from 'node:path';
import type { FsProbe, FsScope, PathKind } from './types.js';
import { firstFolderBelow, isSameOrUnder, isStrictlyUnder, outerNodeModulesOf, packageDirOf } from './paths/index.js';
import { breadthViolation } from './breadth.js';
import { folderKind } from './initial-state.js';

export const GRANULARITIES = ['file', 'dir', 'package', 'deps'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const DEFAULT_GRANULARITY: Granularity = 'deps';

export interface GeneraliseContext {
  granularity: Granularity;
  /** The project root: no grant is widened to it or above it. */
  root: string;
  /** `os.tmpdir()`. */
  tmpdir: string;
  /** The request paths of the user's exercise commands and readiness URL (request-folder.ts). */
  requests?: string[];
  fs: FsProbe;
}

export interface Generalised {
  path: string;
  kind: PathKind;
  /** Why the grant is wider than the file, for the profile's notes. */
  because: string;
}

/**
 * The wider grant a policy allows for `abs` (already known to be needed in `scope`), or undefined to
 * keep the exact path. `kind` is what `abs` itself is.
 */
export function generalisePath(abs: string, kind: PathKind, scope: FsScope, ctx: GeneraliseContext): Generalised | undefined {
  if (kind === 'prefix' || kind === 'created-dir') return undefined;
  // Never widened into what the breadth rule forbids; an exact grant is then tried (and judged) instead.
  const withinRule = (dir: string) =>
    breadthViolation({ scope, path: dir, kind: 'dir' }, { homedir: ctx.fs.homedir, root: ctx.root, tmpdir: ctx.tmpdir }) === undefined;
  const acceptable = (dir: string) => dir !== abs && ctx.fs.kind(dir) === 'dir' && withinRule(dir) && !isSameOrUnder(ctx.root, dir);

  // The app's own folder in the temporary directory (reads and writes alike): the folder, not the file.
  const tmp = ctx.tmpdir.replace(/\/+$/, '');
  if (ctx.granularity !== 'file' && isStrictlyUnder(abs, tmp) && !isSameOrUnder(abs, ctx.root)) {
    const first = firstFolderBelow(abs, tmp);
    // A folder the app creates (absent before the first run) is `dir/*`, so it is covered before it exists.
    const made = folderKind(ctx.fs, first);
    if (first !== abs && !isSameOrUnder(ctx.root, first) && made && withinRule(first) && noSecrets(first, ctx)) {
      return {
        path: first,
        kind: made,
        because: `a folder the app uses in the temporary directory ${tmp}${made === 'created-dir' ? ', which it creates' : ''}`,
      };
    }
    return undefined;
  }
  if (scope !== 'fs.read' || ctx.granularity === 'file') return undefined;

  const pkg = packageDirOf(abs);
  if (pkg !== undefined) {
    if (ctx.granularity === 'deps') {
      const outer = outerNodeModulesOf(abs)!;
      if (isStrictlyUnder(outer, ctx.root) && acceptable(outer)) {
        return { path: outer, kind: 'dir', because: `--granularity deps: every dependency in ${outer}` };
      }
    }
    if ((ctx.granularity === 'deps' || ctx.granularity === 'package') && acceptable(pkg)) {
      return {
        path: pkg,
        kind: 'dir',
        because: `--granularity ${ctx.granularity}: the package ${path.basename(path.dirname(pkg)).startsWith('@') ? `${path.basename(path.dirname(pkg))}/` : ''}${path.basename(pkg)}`,
      };
    }
    if (ctx.granularity === 'dir') {
      const dir = kind === 'dir' ? undefined : path.dirname(abs);
      if (dir !== undefined && isSameOrUnder(dir, pkg) && acceptable(dir))
        return { path: dir, kind: 'dir', because: '--granularity dir: the folder of a dependency file' };
    }
    return undefined;
  }

  // A file of the app: its folder, when that folder is inside the project (not the root) and holds no secret.
  if (kind === 'dir') return undefined;
  const dir = path.dirname(abs);
  if (!isStrictlyUnder(dir, ctx.root) || !acceptable(dir) || !noSecrets(dir, ctx)) return undefined;
  const made = folderKind(ctx.fs, dir) ?? 'dir';
  return {
    path: dir,
    kind: made,
    because: `--granularity ${ctx.granularity}: the app's folder ${path.relative(ctx.root, dir)}${made === 'created-dir' ? ', which it creates' : ''}`,
  };
}

function noSecrets(dir: string, ctx: GeneraliseContext): boolean {
  return (ctx.fs.secretsUnder?.(dir) ?? []).length === 0;
}
