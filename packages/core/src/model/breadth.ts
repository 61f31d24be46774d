// The breadth rule: what no learned profile may grant, whatever the evidence says. Pure: paths in, a
// verdict out. Everything that produces or renders a grant (the learn loop, generalisation, the quirk
// widening, render, check, merge) asks this one function, so the rule cannot drift between them.
//
// A file-system grant is refused when Node would read it as covering
// - `/` (everything), a top-level folder (`/etc`, `/tmp`, `/home`), the home folder or any folder
//   above it, a folder above the project root, or the temporary directory itself;
// - through a `*` inside a name: Node has no escape for `*` and ignores everything after the first
//   one, so `P/x*` (a file really named `x*`) grants every path starting with `P/x`;
// - through a prefix wildcard (`P*`, an mkdtemp template) whose reach includes any of the folders above
//   (`/t*` covers `/tmp`; `$HOME*` covers the home folder).
// Exact files and missing paths directly under `/` (`/.dockerenv`) are not folders and stay allowed.
import path from 'node:path';
import type { PathKind, Scope } from './types.js';
import type { GrantTarget } from './grants.js';
import { ancestors, depth, isSameOrUnder, isStrictlyUnder, renderGrantPath } from './paths/index.js';

export type BreadthCode = 'root-dir' | 'top-level' | 'home' | 'project-ancestor' | 'tmpdir' | 'wildcard-name';

export interface BreadthContext {
  /** The user's home folder. */
  homedir: string;
  /** The project root: folders above it are never granted (the root itself is a risk, not a breach). */
  root?: string;
  /** The temporary directory (`os.tmpdir()`): the folder itself is never granted. */
  tmpdir?: string;
}

export interface BreadthViolation {
  code: BreadthCode;
  /** The grant's value as Node would be given it (`/x/a*`, `/x/d/*`, `/x`). */
  value: string;
  /** One sentence: what the grant would reach. */
  reason: string;
  /** A narrower way out than accepting it, where there is one. */
  instead?: string;
}

/** The parts of a grant the rule looks at. */
export type BreadthGrant = GrantTarget;

/**
 * Why a grant is broader than any learned profile may be, or undefined when it is within the rule.
 * Capabilities (child processes, addons, …) have no reach to measure: they are risks, not breaches.
 */
export function breadthViolation(g: BreadthGrant, ctx: BreadthContext): BreadthViolation | undefined {
  if (g.path === undefined) return undefined;
  const kind = g.kind;
  const value = renderGrantPath(g.path, kind);
  const violation = (code: BreadthCode, reason: string): BreadthViolation => ({ code, value, reason });

  const star = g.path.indexOf('*');
  if (star >= 0) {
    return violation(
      'wildcard-name',
      `${g.path} has a '*' in it, which Node reads as a wildcard: the grant would cover every path starting with ${g.path.slice(0, star)}`,
    );
  }
  if (!path.isAbsolute(g.path)) return violation('root-dir', `${g.path} is not an absolute path`);
  const abs = path.resolve(g.path);

  if (kind === 'prefix') {
    // `D/` + `*` is the whole of D; `D/name` + `*` covers the subtrees of D's entries starting with `name`.
    if (g.path.endsWith('/')) {
      const whole = folderReach(abs, 'dir', ctx);
      return whole ? violation(whole.code, `${value} covers everything in ${abs}, ${whole.what}`) : undefined;
    }
    if (path.dirname(abs) === '/') return violation('top-level', `${value} covers every top-level folder whose name starts with ${path.basename(abs)}`);
    for (const [code, dir, what] of namedFolders(ctx)) {
      if (dir.startsWith(abs)) return violation(code, `${value} covers ${what} ${dir}`);
    }
    return undefined;
  }
  const reach = folderReach(abs, kind, ctx);
  if (!reach) return undefined;
  const v = violation(reach.code, `${value} would grant ${reach.what}`);
  // An app that uses the temporary folder itself (resolves or lists os.tmpdir()) can be given one of its own.
  if (reach.code === 'tmpdir' && abs === usableTmpdir(ctx)) {
    v.instead =
      'or learn and run the app with TMPDIR set to a folder inside the project, a temporary folder of its own that is granted like any other project folder';
  } else if (g.scope === 'fs.read' && ctx.root !== undefined && isStrictlyUnder(ctx.root, abs)) {
    // A folder on the way down to the project: most often a symlink resolver, since the callback form of
    // fs.realpath lstat-s every folder from / down (docs/node-versions.md; realpathSync and fs.promises.realpath do not).
    v.instead = `or, if this is a resolver following symbolic links (fs.realpath with a callback checks every folder from / down to the file), turn that off in the tool that does it (webpack: resolve.symlinks: false), or have it call fs.promises.realpath or fs.realpathSync, which check only the path`;
  }
  return v;
}

/**
 * The forbidden folder a grant of `abs` would be. The named ones count whatever the kind, because Node
 * stats a granted path at start-up and a folder brings its subtree; a top-level entry only when it is a
 * folder (an exact `/.dockerenv` is fine).
 */
function folderReach(abs: string, kind: PathKind, ctx: BreadthContext): { code: BreadthCode; what: string } | undefined {
  if (abs === '/') return { code: 'root-dir', what: 'the root directory, that is every file on the machine' };
  if (ctx.homedir && isSameOrUnder(ctx.homedir, abs)) {
    return { code: 'home', what: abs === ctx.homedir ? `the home folder ${abs}` : `${abs}, which holds the home folder ${ctx.homedir}` };
  }
  if (ctx.root !== undefined && isStrictlyUnder(ctx.root, abs)) {
    return { code: 'project-ancestor', what: `${abs}, a folder above the project ${ctx.root}` };
  }
  const tmp = usableTmpdir(ctx);
  if (tmp !== undefined && isSameOrUnder(tmp, abs)) {
    return { code: 'tmpdir', what: abs === tmp ? `the whole temporary directory ${abs}` : `${abs}, which holds the temporary directory ${tmp}` };
  }
  if ((kind === 'dir' || kind === 'created-dir') && depth(abs) === 1) return { code: 'top-level', what: `the top-level folder ${abs}` };
  return undefined;
}

/** The temporary directory, unless the user put it inside the project (then it is the project's). */
function usableTmpdir(ctx: BreadthContext): string | undefined {
  if (!ctx.tmpdir) return undefined;
  const tmp = path.resolve(ctx.tmpdir);
  return ctx.root !== undefined && isStrictlyUnder(tmp, ctx.root) ? undefined : tmp;
}

/** The named folders a prefix wildcard must not reach, with the code and wording for each. */
function namedFolders(ctx: BreadthContext): [BreadthCode, string, string][] {
  const out: [BreadthCode, string, string][] = [];
  if (ctx.homedir) {
    out.push(['home', path.resolve(ctx.homedir), 'the home folder']);
    for (const up of ancestors(ctx.homedir)) out.push(['home', up, 'the folder holding the home folder,']);
  }
  if (ctx.root !== undefined) for (const up of ancestors(ctx.root)) out.push(['project-ancestor', up, 'the folder above the project,']);
  const tmp = usableTmpdir(ctx);
  if (tmp !== undefined) out.push(['tmpdir', tmp, 'the temporary directory']);
  return out;
}

/**
 * The grants the user accepted although they break the rule (`--accept-broad`): a violation is
 * accepted when its rendered value is one of them exactly. Nothing else widens what may be granted.
 */
export function isAccepted(v: BreadthViolation, accepted: readonly string[] | undefined): boolean {
  return accepted !== undefined && accepted.includes(v.value);
}

/** The one-line way to accept a grant that breaks the rule, for messages. */
export function acceptHint(v: BreadthViolation): string {
  const accept = `if the app really needs it, accept it explicitly with --accept-broad '${v.value.replace(/'/g, `'\\''`)}' (or "acceptBroad" in the config file)`;
  return v.instead ? `${accept}, ${v.instead}` : accept;
}
