// Paths that will not be the same on the next run, and paths no profile may name. A grant names a
// path string, and Node compares the string: a grant for `/proc/4711/stat` or for
// `$TMPDIR/node-compile-cache/v26.10.0-x64-310b2ce3-0` is wrong on the next run, the next Node patch
// release or the next machine. Such a need is either put in its stable form (the folder it is in,
// which exists on every run) or set aside with a reason: the profile lists it, and learning says so
// when the app cannot do without it.
import path from 'node:path';
import type { Denial, FsScope } from './types.js';
import { isSameOrUnder, resourcePath } from './paths/index.js';
import { fsScopeOf } from './denials.js';

export type SetAsideKind =
  /** `/proc/<pid>/…`: names one process; on the next run it is another process or none */
  | 'per-process'
  /** Node's compile cache: its folder carries the Node version and a hash; Node runs without it */
  | 'compile-cache'
  /** an upper- or lower-cased copy of a known path: a test of whether the file system ignores case */
  | 'case-probe'
  /** inside permlearn's own installation or its session folder: never part of the app's profile */
  | 'permlearn';

export interface SetAside {
  kind: SetAsideKind;
  scope: FsScope;
  /** The path as the app used it. */
  path: string;
  reason: string;
  /** The app was seen to get by without it (it caught the denial, or started cleanly). */
  optional: boolean;
  denial: Denial;
}

export interface VolatileContext {
  /** `os.tmpdir()` as the app sees it. */
  tmpdir: string;
  /** Other folders the app's compile cache may live in (`NODE_COMPILE_CACHE`). */
  compileCacheDirs?: readonly string[];
  /** Paths whose case-changed copies are probes: the project root, the cwd, the tmp dir, the home folder. */
  known?: readonly string[];
  /** Why a path lies inside permlearn's own installation or session, if it does. */
  permlearnOwn?: (absPath: string) => string | undefined;
}

export type Vetted =
  | { action: 'keep' }
  /** Grant this path instead (a directory that exists on every run). */
  | { action: 'stable'; path: string; reason: string }
  | { action: 'set-aside'; kind: SetAsideKind; reason: string };

/** A version-and-hash folder name of Node's compile cache: `v26.10.0-x64-310b2ce3-0`. */
const COMPILE_CACHE_ENTRY = /^v\d+\.\d+\.\d+-[A-Za-z0-9_]+-[0-9a-f]{8}(?:-\d+)?$/;

/** What to do with a file-system need for `abs` in `scope`. */
export function vetPath(abs: string, ctx: VolatileContext): Vetted {
  const own = ctx.permlearnOwn?.(abs);
  if (own) return { action: 'set-aside', kind: 'permlearn', reason: `${abs} is ${own}: permlearn's own files are never part of an app's profile` };

  const proc = /^\/proc\/(\d+|self|thread-self)(\/.*)?$/.exec(abs);
  if (proc) {
    const [, who, rest = ''] = proc;
    if (who !== 'self' && who !== 'thread-self') {
      return {
        action: 'set-aside',
        kind: 'per-process',
        reason: `${abs} names process ${who}, which will be another process (or none) on the next run; the stable spelling is /proc/self${rest}`,
      };
    }
    // `/proc/self/fd/17`, `/proc/self/task/4712/stat`: the numbered part changes; its folder does not.
    const parts = rest.split('/').filter(Boolean);
    const numbered = parts.findIndex((p) => /^\d+$/.test(p));
    if (numbered >= 0) {
      const stable = `/proc/${who}/${parts.slice(0, numbered).join('/')}`.replace(/\/$/, '');
      if (stable === `/proc/${who}`) return { action: 'keep' };
      return { action: 'stable', path: stable, reason: `${abs} carries a number that changes from run to run: granted as its folder ${stable}` };
    }
    return { action: 'keep' };
  }

  if (isCompileCache(abs, ctx)) {
    return {
      action: 'set-aside',
      kind: 'compile-cache',
      reason: `${abs} is Node's compile cache, whose folder name carries the Node version and a hash; Node runs without it (only slower to start) when it may not write there`,
    };
  }

  const probed = caseProbeOf(abs, ctx.known ?? []);
  if (probed) {
    return {
      action: 'set-aside',
      kind: 'case-probe',
      reason: `${abs} is ${probed} with its letters' case changed: a test of whether the file system ignores case, not a file the app uses`,
    };
  }
  return { action: 'keep' };
}

/** The same name as a whole segment anywhere in a path (its characters never include `/`). */
const COMPILE_CACHE_SEGMENT = new RegExp(`(?:^|/)${COMPILE_CACHE_ENTRY.source.slice(1, -1)}(?:/|$)`);

/** The compile cache folders of a context, worked out once (vetPath runs for every denial of a run). */
const cacheRoots = new WeakMap<VolatileContext, string[]>();

function isCompileCache(abs: string, ctx: VolatileContext): boolean {
  let roots = cacheRoots.get(ctx);
  if (!roots) cacheRoots.set(ctx, (roots = [path.join(ctx.tmpdir, 'node-compile-cache'), ...(ctx.compileCacheDirs ?? [])]));
  if (roots.some((r) => isSameOrUnder(abs, r))) return true;
  return COMPILE_CACHE_SEGMENT.test(abs);
}

/** The known path that `abs` is a case-changed copy of (at its start, on a segment boundary), if any. */
export function caseProbeOf(abs: string, known: readonly string[]): string | undefined {
  for (const k of known) {
    if (k.length < 2 || abs.length < k.length) continue;
    const head = abs.slice(0, k.length);
    if (head !== k && head.toLowerCase() === k.toLowerCase() && (abs.length === k.length || abs[k.length] === '/')) return k;
  }
  return undefined;
}

/** The absolute path a file-system denial is about, if it is one. */
export function fsPathOf(d: Denial): { scope: FsScope; abs: string } | undefined {
  const scope = fsScopeOf(d.permission);
  if (d.resource === '' || !scope) return undefined;
  // An mkdtemp template is a prefix, not a path: it is judged by the prefix it stands for.
  return { scope, abs: resourcePath(d) };
}

/**
 * Split a run's denials into those to act on (some rewritten to their stable form) and those set
 * aside. `optional` says whether the run they came from got by without them.
 */
export function vetDenials(
  denials: readonly Denial[],
  ctx: VolatileContext | undefined,
  optional: boolean,
): { keep: Denial[]; setAside: SetAside[]; restated: Map<Denial, string> } {
  const keep: Denial[] = [];
  const setAside: SetAside[] = [];
  const restated = new Map<Denial, string>();
  for (const d of denials) {
    const fs = ctx ? fsPathOf(d) : undefined;
    if (!fs) {
      keep.push(d);
      continue;
    }
    const v = vetPath(fs.abs, ctx!);
    if (v.action === 'keep') keep.push(d);
    else if (v.action === 'set-aside' && v.kind === 'case-probe' && d.source === 'uncaught') {
      // The app cannot do without its case test (fs.existsSync throws when denied): the probed path is granted
      // as it is; it names nothing that exists, now or on the next run.
      restated.set(d, `${v.reason}; the app fails without it, so it is granted as it is (a path that exists on no run)`);
      keep.push(d);
    } else if (v.action === 'stable') {
      const stated = { ...d, resource: v.path };
      restated.set(stated, v.reason);
      keep.push(stated);
    } else setAside.push({ kind: v.kind, scope: fs.scope, path: fs.abs, reason: v.reason, optional: optional && d.source !== 'uncaught', denial: d });
  }
  return { keep, setAside, restated };
}

/** The same need seen in several runs, once; it is optional only if every run got by without it. */
export function mergeSetAside(list: readonly SetAside[]): SetAside[] {
  const byKey = new Map<string, SetAside>();
  for (const s of list) {
    const key = `${s.scope} ${s.path}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...s });
    else seen.optional = seen.optional && s.optional;
  }
  return [...byKey.values()];
}
