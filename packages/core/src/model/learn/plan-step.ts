// What one denial changes in the grants: add, replace (the prefix quirk, a created folder), refuse
// (the breadth rule) or give up. Pure; the loop decides what to do with the step.
import path from 'node:path';
import { permissionLabel, type Denial, type FsProbe, type FsScope, type PathKind, type Scope } from '../types.js';
import type { Capabilities } from '../node-versions.js';
import { denialKey, needOf, type Need } from '../denials.js';
import { GrantSet, findCovering, normaliseGrants, renderFlags, targetOf, type FsGrant, type Grant } from '../grants.js';
import { isStrictlyUnder, prefixConflicts } from '../paths/index.js';
import { acceptHint, breadthViolation, isAccepted, type BreadthContext, type BreadthViolation } from '../breadth.js';
import { generalisePath } from '../generalise.js';
import { folderKind, initialKind } from '../initial-state.js';
import type { NamedEachRunIndex } from './named-each-run.js';
import type { MissingFolderSearches } from './missing-folder.js';
import { requestFolderOf } from './request-folder.js';
import { describeLost, lostInChild } from '../child-flags.js';
import { createsFolder } from './created-folder.js';
import type { LearnEvent, LearnOptions, Refusal, Ungrantable } from './types.js';

export type Step =
  | { type: 'add'; grant: Grant }
  | { type: 'replace'; old: Grant; grant: Grant; event?: LearnEvent }
  | { type: 'stuck'; reason: string }
  /** A Node child was denied what a grant covers because it was started without that grant. */
  | { type: 'child-lost'; reason: string }
  | { type: 'ungrantable'; info: Ungrantable }
  | { type: 'refused'; info: Refusal };

export type PlanOptions = Pick<LearnOptions, 'caps' | 'fs' | 'implicitReadGrants' | 'generalise' | 'acceptBroad'>;

/** What a plan knows beyond one denial: earlier runs' grants by path shape, and the plan's lookups by folder. */
export interface PlanHints {
  named?: NamedEachRunIndex;
  searches?: MissingFolderSearches;
}

/** What the breadth rule is measured against: the home folder, the project root, the temporary directory. */
export function breadthContext(opts: Pick<LearnOptions, 'fs' | 'generalise'>): BreadthContext {
  return {
    homedir: opts.fs.homedir,
    ...(opts.generalise?.root !== undefined ? { root: opts.generalise.root } : {}),
    ...(opts.generalise?.tmpdir !== undefined ? { tmpdir: opts.generalise.tmpdir } : {}),
  };
}

/** The breadth rule on one grant, with the user's explicit acceptances: the violation, if it stands. */
export function unacceptedBreadth(g: Grant, opts: Pick<LearnOptions, 'fs' | 'generalise' | 'acceptBroad'>): BreadthViolation | undefined {
  const v = breadthViolation(g, breadthContext(opts));
  return v && !isAccepted(v, opts.acceptBroad) ? v : undefined;
}

/** One sentence on a refusal: what was asked, by whom, what it would grant, and how to accept it. */
export function describeRefusal(r: Refusal): string {
  const who = r.denial.by ?? r.denial.site;
  const why = r.because ? ` (${r.because})` : '';
  return `${permissionLabel(r.denial)} ${r.denial.resource || '(no resource)'}${who ? ` (asked by ${who})` : ''}: ${r.violation.reason}${why}; permlearn never grants that on its own; ${acceptHint(r.violation)}`;
}

function fsGrant(scope: FsScope, p: string, kind: PathKind, denial: Denial): FsGrant {
  return { scope, path: p, kind, denials: [denial], notes: [] };
}

/**
 * Decide what one denial changes in the current grants. A grant that would break the breadth rule is
 * refused here, whichever path produced it (exact, generalised, quirk widening, mkdtemp prefix).
 */
export function planStep(denial: Denial, grants: readonly Grant[] | GrantSet, opts: PlanOptions, run: number, hints: PlanHints = {}): Step {
  const step = planUnguarded(denial, grants, opts, run, hints);
  if (step.type !== 'add' && step.type !== 'replace') return step;
  const violation = breadthViolation(step.grant, breadthContext(opts));
  if (!violation) return step;
  if (!isAccepted(violation, opts.acceptBroad)) {
    const because = step.type === 'replace' && step.event?.type === 'widened' ? `${step.event.from} → ${step.event.to}: ${step.event.because}` : undefined;
    const grant = targetOf(step.grant);
    return { type: 'refused', info: { denial, grant, violation, ...(because ? { because } : {}) } };
  }
  const accepted = { code: 'accepted-broad' as const, detail: `${violation.reason}: accepted with --accept-broad` };
  return { ...step, grant: { ...step.grant, notes: [...step.grant.notes.filter((n) => n.code !== 'accepted-broad'), accepted] } };
}

/** `current` is a GrantSet when many denials are planned in a row. */
function planUnguarded(denial: Denial, current: readonly Grant[] | GrantSet, opts: PlanOptions, run: number, hints: PlanHints): Step {
  const grants = current instanceof GrantSet ? current : GrantSet.view(current);
  const need: Need = needOf(denial, opts.caps);
  if (need.type === 'ungrantable') return { type: 'ungrantable', info: { denial, code: need.code, reason: need.reason } };
  if (need.type === 'scope') {
    if (findCovering(grants, need.scope)) return { type: 'stuck', reason: `'${need.scope}' is granted but Node still denied it` };
    return { type: 'add', grant: { scope: need.scope, denials: [denial], notes: [] } };
  }
  const { scope, path: target } = need;
  if (need.prefix) {
    // A template without a name prefix (`mkdtemp('/tmp/')`) is the whole folder: the breadth rule decides.
    const g = fsGrant(scope, target, 'prefix', denial);
    g.notes.push({ code: 'mkdtemp-prefix', detail: `mkdtemp template ${denial.resource}: grants every path starting with ${target}` });
    return { type: 'add', grant: g };
  }
  const covering = findCovering(grants, scope, target);
  if (covering) {
    // Only a child's denial carries its own flags: the grants are rendered for those alone.
    const lost = denial.given ? lostInChild(denial, renderFlags(grants.toArray(), opts.caps)) : undefined;
    if (lost) return { type: 'child-lost', reason: describeLost(lost) };
    return planQuirk(denial, target, covering, grants, opts, run);
  }

  // A path below a grant of a path that did not exist: the app has since created it as a directory.
  const created = grants
    .reaching(scope, target)
    .find((g): g is FsGrant => g.kind === 'missing' && isStrictlyUnder(target, g.path) && opts.fs.kind(g.path) === 'dir');
  if (created) {
    const grant: Grant = { ...created, kind: 'created-dir', denials: [...created.denials, denial], notes: [...created.notes] };
    grant.notes.push({
      code: 'created-at-run-time',
      detail: `${created.path} does not exist before the app runs; granted as ${created.path}/* so files created in it are covered`,
    });
    return { type: 'replace', old: created, grant };
  }
  // Inside a temporary directory the other fs scope already reaches through an mkdtemp prefix.
  const other = scope === 'fs.read' ? 'fs.write' : 'fs.read';
  const tmp = grants.reaching(other, target).find((g) => g.kind === 'prefix' && g.path !== undefined && target.startsWith(g.path));
  if (tmp) return { type: 'add', grant: { ...fsGrant(scope, tmp.path!, 'prefix', denial), notes: [...tmp.notes] } };

  // A folder named anew each run (a generated id; earlier runs' grants, `named`): the common folder,
  // or nothing exact will ever do.
  const renamed = hints.named?.find(denial, scope, target, opts.fs);
  if (renamed) {
    const kind = folderKind(opts.fs, renamed.folder) ?? 'created-dir';
    const grant: Grant = {
      scope,
      path: renamed.folder,
      kind,
      denials: [...renamed.old.denials, denial],
      notes: renamed.old.notes.filter((n) => n.code !== 'created-at-run-time'),
    };
    const because = `the app names a folder in ${renamed.folder} anew each run (${renamed.names.join(', then ')}, at ${denial.site}): no grant narrower than ${renamed.folder} covers the next one`;
    grant.notes.push({ code: 'generalised', detail: because });
    return { type: 'replace', old: renamed.old, grant, event: { type: 'widened', run, from: target, to: renamed.folder, scope, because } };
  }
  // The folder a server maps the requested URLs onto (a static middleware's lookups of each request's
  // path): the folder whole, since the grants of the URLs learning asked for fail every other.
  const served = scope === 'fs.read' ? requestFolderOf(denial, opts) : undefined;
  const servedKind = served && initialKind(opts.fs, served.folder);
  if (served && servedKind !== 'file') {
    const grant = fsGrant(scope, served.folder, servedKind === 'dir' ? 'dir' : 'created-dir', denial);
    grant.notes.push({
      code: 'generalised',
      detail: `the app looks requests' paths up under ${served.folder} (${served.url} → ${path.relative(served.folder, target)}): granted the folder${servedKind === 'dir' ? '' : ` as ${served.folder}/*, which does not exist,`} so that a URL learning did not ask for is answered too`,
    });
    return { type: 'add', grant };
  }
  // A folder that was not there, searched by name (a static server's lookups of each request's path):
  // the folder as `F/*`, since no list of the names learning saw covers the next request's.
  const search = hints.searches?.find(denial, scope);
  if (search) {
    const grant = fsGrant(scope, search.folder, 'created-dir', denial);
    const names = `${search.names.join(', ')}${search.count > search.names.length ? ` and ${search.count - search.names.length} more` : ''}`;
    grant.notes.push({
      code: 'generalised',
      detail: `names looked up under ${search.folder}, which does not exist (${names}): granted as ${search.folder}/* so that any name looked up there is covered, not only those learning saw`,
    });
    return { type: 'add', grant };
  }
  // A denied mkdir of a path absent before the first run: the folder the app creates, `dir/*` at once.
  if (scope === 'fs.write' && createsFolder(denial) && initialKind(opts.fs, target) === 'missing') {
    const grant = fsGrant(scope, target, 'created-dir', denial);
    grant.notes.push({
      code: 'created-at-run-time',
      detail: `${target} does not exist before the app runs and the app creates it (fs.${denial.call}); granted as ${target}/* so files created in it are covered`,
    });
    return { type: 'add', grant };
  }
  // A path that did not exist when checked is granted as missing even if the run has since created it,
  // so that a directory the app creates is recognised (below) and granted as `dir/*`.
  const kind = denial.existed === false ? 'missing' : initialKind(opts.fs, target);
  const wider = opts.generalise ? generalisePath(target, kind, scope, { ...opts.generalise, fs: opts.fs }) : undefined;
  if (wider) {
    const grant = fsGrant(scope, wider.path, wider.kind, denial);
    grant.notes.push({ code: 'generalised', detail: wider.because });
    return { type: 'add', grant };
  }
  return { type: 'add', grant: fsGrant(scope, target, kind, denial) };
}

/** A denial that a refused grant would have covered. */
export function insideRefused(denial: Denial, refused: readonly Refusal[], caps: Capabilities): boolean {
  const need = needOf(denial, caps);
  if (need.type !== 'fs') return false;
  const reach = refused.map((r) => ({ ...r.grant, denials: [], notes: [] }) as Grant);
  return findCovering(reach, need.scope, need.path) !== undefined;
}

/** During a priming run, a candidate that an earlier grant already covers is evidence for that grant
 *  (with `only`, when that grant is one of these). */
export function absorb(denial: Denial, grants: GrantSet, caps: Capabilities, only?: ReadonlySet<Grant>): boolean {
  const need = needOf(denial, caps);
  if (need.type !== 'fs' || need.prefix) return false;
  const covering = findCovering(grants, need.scope, need.path);
  if (!covering || (only !== undefined && !only.has(covering))) return false;
  // A later priming run (a second observe run) sees again what the first one saw: one piece of evidence.
  const key = denialKey(denial);
  if (!covering.denials.some((d) => d.site === denial.site && denialKey(d) === key)) covering.denials.push(denial);
  return true;
}

/**
 * A path is denied although a grant covers it. The known cause is Node's prefix quirk on an exact
 * directory path; the fix is to grant the parent instead, within the limits in paths.ts.
 */
function planQuirk(denial: Denial, target: string, covering: FsGrant, grants: GrantSet, opts: PlanOptions, run: number): Step {
  // Only a stored path that starts with the target's can conflict with it.
  const stored = grants.startingWith(covering.scope, target).map((g) => g.path!);
  if (covering.scope === 'fs.read') stored.push(...(opts.implicitReadGrants ?? []));
  const conflicts = prefixConflicts(target, stored);
  if (opts.fs.kind(target) !== 'dir' || conflicts.length === 0) {
    return { type: 'stuck', reason: `${permissionLabel(denial)} on ${target} is denied again although ${covering.path} is granted` };
  }
  const parent = path.dirname(target);
  // The breadth rule (in planStep) decides whether the parent may be granted at all.
  const secrets = opts.fs.secretsUnder?.(parent) ?? [];
  if (secrets.length > 0) {
    return {
      type: 'stuck',
      reason: `Node denies the directory ${target} itself because ${conflicts.join(', ')} shares its prefix; the fix, granting ${parent}, would expose ${secrets.slice(0, 3).join(', ')}`,
    };
  }
  const because = `Node denies a directory's own path when another grant shares its prefix (${conflicts.join(', ')})`;
  const grant = fsGrant(covering.scope, parent, 'dir', denial);
  grant.notes.push({ code: 'widened-for-node-quirk', detail: `${target} → ${parent}: ${because}` });
  return {
    type: 'replace',
    old: covering,
    grant: { ...grant, denials: [...covering.denials, denial] },
    event: { type: 'widened', run, from: target, to: parent, scope: covering.scope, because },
  };
}

/**
 * A granted path that did not exist has since become a directory: the app created it. Node grants a
 * missing path exactly and an existing directory with its subtree, so the same flag would mean two
 * things depending on what exists at start-up; `dir/*` means the directory and its subtree either way.
 */
export function promoteCreatedDirs(grants: readonly Grant[], fs: FsProbe): Grant[] {
  if (!grants.some((g) => g.kind === 'missing' && g.path !== undefined && fs.kind(g.path) === 'dir')) return [...grants];
  return normaliseGrants(
    grants.map((g) => {
      if (g.kind !== 'missing' || g.path === undefined || fs.kind(g.path) !== 'dir') return g;
      const note = {
        code: 'created-at-run-time' as const,
        detail: `${g.path} did not exist before the app ran and the app created it; granted as ${g.path}/* so it is covered whether or not it exists at start-up`,
      };
      return { ...g, kind: 'created-dir' as const, notes: [...g.notes, note] };
    }),
  );
}
