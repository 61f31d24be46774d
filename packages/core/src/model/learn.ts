// The learn loop: run, read denials, grant, run again, then verify. Running the app is injected,
// so this file decides everything and does nothing.
import path from 'node:path';
import type { Denial, FsProbe, PathKind, Scope } from './types.js';
import type { Capabilities } from './node-versions.js';
import { dedupeDenials, denialKey, fsScopeOf, isSpurious, needOf, type Need, type UngrantableCode } from './denials.js';
import { GrantSet, findCovering, grantKey, isFsScope, normaliseGrants, renderFlags, type Grant } from './grants.js';
import { isStrictlyUnder, prefixConflicts, resourcePath } from './paths/index.js';
import { acceptHint, breadthViolation, isAccepted, type BreadthContext, type BreadthViolation } from './breadth.js';
import { isDuplicateGrantAbort } from './parse-stderr.js';
import type { LoadedFile, Use } from './parse-events.js';
import { generalisePath, type GeneraliseContext } from './generalise.js';
import { mergeSetAside, vetDenials, type SetAside, type VolatileContext } from './volatile.js';
import { initialKind } from './initial-state.js';
import { isHasProbe, isMissingLookup, isSurvived, reduceCandidates, SoftEvidence, splitCandidates } from './tighten.js';
import { fallbackGrants, hiddenCauses, isLoaderDenial } from './fallback.js';
import { describeLost, lostInChild, soleCause, type LostInChild } from './child-flags.js';

/** How one run of the app ended, as the runner saw it. */
export interface RunResult {
  /** `ready`: the readiness signal was reached; `exited`: the app ended by itself;
   *  `timeout`: it neither exited nor became ready in time; `spawn-error`: it never started. */
  outcome: 'ready' | 'exited' | 'timeout' | 'spawn-error';
  exitCode?: number | null;
  signal?: string | null;
  /** What signalled readiness (`stdout`, `port`, `url`, `timeout`). */
  readyBy?: string;
  /** Denials the recorder reported (empty when it did not run). */
  denials: Denial[];
  /** The recorder loaded in the app's main thread. */
  recorderLoaded: boolean;
  /** CommonJS files the app loaded (from the recorder). */
  modules?: LoadedFile[];
  /** package.json paths the CommonJS resolver checked, existing or not (from the recorder). */
  probes?: LoadedFile[];
  /** Paths read successfully through the fs API (observe runs). */
  touched?: LoadedFile[];
  /** Child processes and Workers started (observe runs). */
  uses?: Use[];
  /** Paths looked up that did not exist (observe runs). */
  missing?: LoadedFile[];
  /** Denial blocks found in stderr (used only when the recorder did not run). */
  stderrDenials: Denial[];
  /** The end of the app's stderr, for the report. */
  stderrTail: string;
  /** The end of the app's stdout (the report shows it when a readiness signal never came). */
  stdoutTail?: string;
  /** The readiness signal the run waited for, in words (`stdout line matching /listening/`). */
  waitedFor?: string;
  /** What was wrong with the run's evidence, when something was: lines and files not written by the
   *  recorder (ignored), bytes over the channel's limit and child files over theirs (not read). */
  evidence?: EvidenceCounts;
  /** The exercise commands run once the app was ready (in order; the first failure ends the list). */
  exercise?: ExerciseResult[];
  /** When the app was seen ready (epoch ms). */
  readyTime?: number;
  /** When the recorder applied a drop plan in the app (drop-plan verification runs). */
  dropped?: { time: number; applied: number; error?: string };
  durationMs: number;
  error?: string;
  /** A Node child of the app was started from the run's flags but without some of them (child-flags.ts). */
  childLost?: LostInChild;
}

export interface EvidenceCounts {
  forged: number;
  forgedFiles: number;
  forgedLines: number;
  channelDropped: number;
  cappedFiles: number;
}

/** How one exercise command went. */
export interface ExerciseResult {
  command: string;
  /** null when it was killed (timed out). */
  exitCode: number | null;
  timedOut?: boolean;
  durationMs: number;
  /** The end of its output, when it failed. */
  outputTail?: string;
}

export type Phase = 'audit' | 'observe' | 'learn' | 'tighten' | 'minimize' | 'verify';

export interface RunRequest {
  run: number;
  /** `audit`: under --permission-audit, nothing denied, every check reported; `learn`: enforce mode
   *  with the recorder; `observe`: enforce mode plus `extraGrants`, to see what the app loads;
   *  `verify`: enforce mode with exactly the grants and nothing else. */
  phase: Phase;
  grants: Grant[];
  /** Temporary grants for this run only (the wide read grant of an observe run). */
  extraGrants?: Grant[];
}

export type RunApp = (request: RunRequest) => Promise<RunResult>;

export type LearnStatus = 'verified' | 'app-failed' | 'no-progress' | 'run-limit' | 'ungrantable' | 'verify-failed' | 'too-broad' | 'child-lost-grants';

export interface Ungrantable {
  denial: Denial;
  code: UngrantableCode;
  reason: string;
}

/** A need permlearn refused to grant because the grant would break the breadth rule (breadth.ts). */
export interface Refusal {
  denial: Denial;
  /** The grant that would have answered it. */
  grant: { scope: Scope; path?: string; kind?: PathKind };
  violation: BreadthViolation;
  /** Why permlearn chose that grant, when it is not the resource itself (the prefix-quirk widening). */
  because?: string;
}

/** Progress events, for a live report. */
export type LearnEvent =
  | { type: 'run-start'; run: number; phase: Phase; grants: number }
  | { type: 'run-end'; run: number; phase: Phase; result: RunResult }
  | { type: 'audit-done'; run: number; events: number; candidates: number }
  | { type: 'observe-done'; run: number; modules: number; candidates: number; root: string }
  | { type: 'granted'; run: number; grant: Grant; denial: Denial }
  | { type: 'widened'; run: number; from: string; to: string; scope: Scope; because: string }
  /** Grants learned only on a loader's fallback path (after `because` was denied), set aside now that it is granted. */
  | { type: 'set-aside'; run: number; grants: Grant[]; because: Denial }
  /** Grants set aside earlier that a later run needed after all, given back. */
  | { type: 'restored'; run: number; grants: Grant[] }
  | { type: 'minimized'; run: number; grant: Grant; outcome: 'removed' | 'narrowed' | 'kept'; to?: Grant[] }
  /** From this run on the flags reach the app through NODE_OPTIONS, because a Node child lost them. */
  | { type: 'delivery'; run: number; delivery: 'node-options'; because: string };

export interface LearnOptions {
  runApp: RunApp;
  caps: Capabilities;
  fs: FsProbe;
  maxRuns: number;
  /** Paths Node grants for reading without a flag (the entry file on 22+): they take part in the prefix quirk. */
  implicitReadGrants?: string[];
  /** Grants to start from (none by default). */
  initialGrants?: Grant[];
  /** Start with one run under --permission-audit and grant what it saw (Node 24+). */
  audit?: boolean;
  /** Start with one enforce run that may read all of this directory, and grant the modules it loaded. */
  observeRoot?: string;
  /** Grant what a cleanly starting app was denied and survived (caught denials, `has()` answered no).
   *  Default true: the app asked. False leaves them in `observed`. */
  grantCaught?: boolean;
  /** After verification, try the app without each grant and keep only what it needs (bounded by maxRuns). */
  minimize?: boolean;
  /** Tight: a grant whose only evidence is soft (a denial the app survived, a lookup of a missing path)
   *  is kept only if the app fails without it, tried in groups (tighten.ts); a clean run's caught
   *  denials are not granted. Off: they are granted as `grantCaught` says. */
  tighten?: boolean;
  /** When the first run's evidence is complete (it ran to the end), verify its grants at once instead
   *  of confirming them with an enforce run first; the loop runs only if that verification fails. */
  fold?: boolean;
  /** How far a grant may reach beyond the file that asked for it (default: exactly that file). */
  generalise?: Omit<GeneraliseContext, 'fs'>;
  /** Grants (rendered values, absolute) the user accepted although they break the breadth rule. */
  acceptBroad?: readonly string[];
  /** Paths that are not the same on the next run, and permlearn's own: set aside or put in their stable
   *  form before anything is granted (model/volatile.ts). */
  volatile?: VolatileContext;
  onEvent?: (event: LearnEvent) => void;
  /** A Node child was started without grants the app had (its execArgv rebuilt): give every later run
   *  its flags in NODE_OPTIONS instead, which such a child still reads. True if the runner switched
   *  (it does so once); absent or false: learning stops with `child-lost-grants`. */
  deliverViaNodeOptions?: () => boolean;
}

export interface LearnResult {
  status: LearnStatus;
  grants: Grant[];
  /** Every run, the verification run included. */
  runs: number;
  /** Denials the app survived (caught, or published and not needed): seen, not granted. */
  observed: Denial[];
  ungrantable: Ungrantable[];
  /** What the app asked for that permlearn would not grant (too broad), needed or not. */
  refused: Refusal[];
  /** One sentence on why learning stopped, when it did not succeed. */
  reason?: string;
  /** What --minimize changed: grants the app started without, and widened grants it needed only narrowed. */
  minimized?: Minimized;
  /** The last run's result (the verification run when there was one). */
  last?: RunResult;
  /** Needs not granted because their path will not be the same on the next run, or is permlearn's own. */
  setAside?: SetAside[];
  /** What tightening took out and kept (candidates: grants whose only evidence is soft). */
  tightened?: Tightened;
  /** How the flags must reach the app: `node-options` when a Node child of it gets them only from there. */
  delivery?: 'node-options';
}

export function runSucceeded(r: RunResult): boolean {
  if (r.outcome === 'ready') return !exerciseFailed(r);
  return r.outcome === 'exited' && r.exitCode === 0;
}

/** The exercise command that failed in a run, if one did. */
export function exerciseFailed(r: RunResult): ExerciseResult | undefined {
  return r.exercise?.find((e) => e.exitCode !== 0);
}

/**
 * The denials to act on after a run. Errors that escaped the app come first; then errors it
 * printed itself; if the run failed with neither, the checks the diagnostics channels saw that
 * app code (not Node's package-scope lookups) made. Without the recorder there is no evidence at all.
 */
export function selectDenials(r: RunResult): Denial[] {
  // Only what the recorder reported is evidence: without it (a command that ran no Node process), stderr
  // text is anyone's to print, and nothing is granted on it.
  if (!r.recorderLoaded) return [];
  const pick = (source: Denial['source']): Denial[] => dedupeDenials(r.denials.filter((d) => d.source === source));
  const uncaught = pick('uncaught');
  if (uncaught.length) return uncaught;
  if (runSucceeded(r)) return [];
  const logged = pick('logged');
  if (logged.length) return logged;
  return dedupeDenials([...pick('channel'), ...pick('caught')]).filter((d) => !isSpurious(d) && d.site !== undefined);
}

/** A read denied on a path that does not exist (now): a lookup, not a file the app uses. */
function readsMissing(d: Denial, fs: FsProbe): boolean {
  return d.permission === 'FileSystemRead' && d.resource !== '' && fs.kind(resourcePath(d)) === 'missing';
}

/**
 * When the denials to act on are ones the app caught (it failed, but nothing escaped), reads of paths
 * that do not exist are lookups it handled (a config search, `node_modules/@types` in every folder up to
 * `/`): act on the others first. Only if nothing else is left are those granted.
 */
export function preferPresent(denials: Denial[], fs: FsProbe): Denial[] {
  const lookup = (d: Denial) =>
    (d.source === 'caught' || d.source === 'channel') && readsMissing(d, fs);
  const rest = denials.filter((d) => !lookup(d));
  return rest.length > 0 ? rest : denials;
}

type Step =
  | { type: 'add'; grant: Grant }
  | { type: 'replace'; old: Grant; grant: Grant; event?: LearnEvent }
  | { type: 'stuck'; reason: string }
  /** A Node child was denied what a grant covers because it was started without that grant. */
  | { type: 'child-lost'; reason: string }
  | { type: 'ungrantable'; info: Ungrantable }
  | { type: 'refused'; info: Refusal };

type PlanOptions = Pick<LearnOptions, 'caps' | 'fs' | 'implicitReadGrants' | 'generalise' | 'acceptBroad'>;

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
  return `${r.denial.permission} ${r.denial.resource || '(no resource)'}${who ? ` (asked by ${who})` : ''}: ${r.violation.reason}${why}; permlearn never grants that on its own; ${acceptHint(r.violation)}`;
}

function fsGrant(scope: Scope, p: string, kind: Grant['kind'], denial: Denial): Grant {
  return { scope, path: p, kind, denials: [denial], notes: [] };
}

/**
 * Decide what one denial changes in the current grants. A grant that would break the breadth rule is
 * refused here, whichever path produced it (exact, generalised, quirk widening, mkdtemp prefix).
 */
export function planStep(denial: Denial, grants: readonly Grant[] | GrantSet, opts: PlanOptions, run: number): Step {
  const step = planUnguarded(denial, grants, opts, run);
  if (step.type !== 'add' && step.type !== 'replace') return step;
  const violation = breadthViolation(step.grant, breadthContext(opts));
  if (!violation) return step;
  if (!isAccepted(violation, opts.acceptBroad)) {
    const because = step.type === 'replace' && step.event?.type === 'widened' ? `${step.event.from} → ${step.event.to}: ${step.event.because}` : undefined;
    const grant = { scope: step.grant.scope, ...(step.grant.path !== undefined ? { path: step.grant.path } : {}), ...(step.grant.kind ? { kind: step.grant.kind } : {}) };
    return { type: 'refused', info: { denial, grant, violation, ...(because ? { because } : {}) } };
  }
  const accepted = { code: 'accepted-broad' as const, detail: `${violation.reason}: accepted with --accept-broad` };
  return { ...step, grant: { ...step.grant, notes: [...step.grant.notes.filter((n) => n.code !== 'accepted-broad'), accepted] } };
}

/** `current` is a GrantSet when many denials are planned in a row. */
function planUnguarded(denial: Denial, current: readonly Grant[] | GrantSet, opts: PlanOptions, run: number): Step {
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
  const created = grants.reaching(scope, target).find(
    (g) => g.kind === 'missing' && g.path !== undefined && isStrictlyUnder(target, g.path) && opts.fs.kind(g.path) === 'dir',
  );
  if (created) {
    const grant: Grant = { ...created, kind: 'created-dir', denials: [...created.denials, denial], notes: [...created.notes] };
    grant.notes.push({ code: 'created-at-run-time', detail: `${created.path} does not exist before the app runs; granted as ${created.path}/* so files created in it are covered` });
    return { type: 'replace', old: created, grant };
  }
  // Inside a temporary directory the other fs scope already reaches through an mkdtemp prefix.
  const other = scope === 'fs.read' ? 'fs.write' : 'fs.read';
  const tmp = grants.reaching(other, target).find((g) => g.kind === 'prefix' && g.path !== undefined && target.startsWith(g.path));
  if (tmp) return { type: 'add', grant: { ...fsGrant(scope, tmp.path!, 'prefix', denial), notes: [...tmp.notes] } };

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
function insideRefused(denial: Denial, refused: readonly Refusal[], caps: Capabilities): boolean {
  const need = needOf(denial, caps);
  if (need.type !== 'fs') return false;
  const reach = refused.map((r) => ({ ...r.grant, denials: [], notes: [] }) as Grant);
  return findCovering(reach, need.scope, need.path) !== undefined;
}

/** During a priming run, a candidate that an earlier grant already covers is evidence for that grant. */
function absorb(denial: Denial, grants: GrantSet, caps: Capabilities): boolean {
  const need = needOf(denial, caps);
  if (need.type !== 'fs' || need.prefix) return false;
  const covering = findCovering(grants, need.scope, need.path);
  if (!covering) return false;
  covering.denials.push(denial);
  return true;
}

/**
 * A path is denied although a grant covers it. The known cause is Node's prefix quirk on an exact
 * directory path; the fix is to grant the parent instead, within the limits in paths.ts.
 */
function planQuirk(denial: Denial, target: string, covering: Grant, grants: GrantSet, opts: PlanOptions, run: number): Step {
  // Only a stored path that starts with the target's can conflict with it.
  const stored = grants.startingWith(covering.scope, target).map((g) => g.path!);
  if (covering.scope === 'fs.read') stored.push(...(opts.implicitReadGrants ?? []));
  const conflicts = prefixConflicts(target, stored);
  if (opts.fs.kind(target) !== 'dir' || conflicts.length === 0) {
    return { type: 'stuck', reason: `${denial.permission} on ${target} is denied again although ${covering.path} is granted` };
  }
  const parent = path.dirname(target);
  // The breadth rule (in planStep) decides whether the parent may be granted at all.
  const secrets = opts.fs.secretsUnder?.(parent) ?? [];
  if (secrets.length > 0) {
    return { type: 'stuck', reason: `Node denies the directory ${target} itself because ${conflicts.join(', ')} shares its prefix; the fix, granting ${parent}, would expose ${secrets.slice(0, 3).join(', ')}` };
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

/** Run the loop until the app starts cleanly, then verify with exactly the learned grants. */
export async function learn(opts: LearnOptions): Promise<LearnResult> {
  const emit = opts.onEvent ?? (() => {});
  let grants = normaliseGrants(opts.initialGrants ?? []);
  const observed: Denial[] = [];
  const ungrantable: Ungrantable[] = [];
  const refused: Refusal[] = [];
  const refuse = (r: Refusal) => {
    if (!refused.some((x) => x.violation.value === r.violation.value && x.denial.permission === r.denial.permission)) refused.push(r);
  };
  // Lookups of missing paths the first run saw (config-file searches): not granted up front, but when
  // one of them turns out to be needed, the others from the same call site come with it.
  const lookups: Denial[] = [];
  let runs = 0;
  let last: RunResult | undefined;
  const setAside: SetAside[] = [];
  // Volatile paths and permlearn's own are taken out before planning; a stable form keeps a note.
  const vet = (denials: Denial[], optional: boolean) => {
    const v = vetDenials(denials, opts.volatile, optional);
    setAside.push(...v.setAside);
    return v;
  };
  const noteStable = (grant: Grant, denial: Denial, restated: Map<Denial, string>) => {
    const why = restated.get(denial);
    if (why && !grant.notes.some((n) => n.detail === why)) grant.notes.push({ code: 'stable-form', detail: why });
  };
  // Tightening (tighten.ts): which evidence shows no need, and what the candidates came to.
  const tight = opts.tighten === true;
  const soft = new SoftEvidence();
  let tightened: Tightened | undefined;
  // Candidates a folded verification left out: put back if the app then fails with nothing to learn.
  let pending: Grant[] = [];
  // Grants set aside as a loader's fallback path (fallback.ts), until a run shows one is needed.
  let fallbackAside: Grant[] = [];
  const setAsideFallback = (now: Grant[], from: ReadonlySet<string>, result: RunResult): Grant[] => {
    const learnedLoader = now.some((g) => !from.has(grantKey(g)) && (g.scope === 'addon' || g.scope === 'wasi') && g.denials.some(isLoaderDenial));
    if (!learnedLoader) return now;
    const added = now.filter((g) => !from.has(grantKey(g)));
    const found = fallbackGrants(added, result.denials);
    if (found.grants.length === 0 || !found.trigger) return now;
    const drop = new Set(found.grants.map(grantKey));
    fallbackAside.push(...found.grants);
    emit({ type: 'set-aside', run: runs, grants: found.grants, because: found.trigger });
    return now.filter((g) => !drop.has(grantKey(g)));
  };
  /** A run was denied something a set-aside grant covers: the app needs that path after all, so all of them come back. */
  const restoreIfNeeded = (result: RunResult): boolean => {
    if (fallbackAside.length === 0) return false;
    const index = GrantSet.view(fallbackAside);
    // Only what the run is acted on counts: a loader that fell back again for another reason (its
    // addon file denied) repeats the set-aside lookups without needing them.
    if (!preferPresent(selectDenials(result), opts.fs).some((d) => isCoveredDenial(d, index))) return false;
    const back = fallbackAside;
    fallbackAside = [];
    grants = normaliseGrants([...grants, ...back]);
    emit({ type: 'restored', run: runs, grants: back });
    return true;
  };

  let delivery: 'node-options' | undefined;
  /** A run showed a Node child without some of the command line's flags: from now on they go in NODE_OPTIONS. */
  const switchDelivery = (because: string): boolean => {
    if (delivery !== undefined || opts.deliverViaNodeOptions?.() !== true) return false;
    delivery = 'node-options';
    emit({ type: 'delivery', run: runs, delivery, because });
    return true;
  };
  const done = (status: LearnStatus, reason?: string): LearnResult => ({
    status,
    grants,
    runs,
    ...(delivery ? { delivery } : {}),
    ...(tightened ? { tightened } : {}),
    // What was refused is reported as such, not as something the app got by without; so is what was set aside.
    observed: notGranted(dedupeDenials(observed), grants).filter((d) => !refused.some((r) => denialKey(r.denial) === denialKey(d)) && !setAside.some((s) => s.denial.resource === d.resource && s.denial.permission === d.permission)),
    ungrantable,
    refused,
    ...(reason ? { reason } : {}),
    ...(last ? { last } : {}),
    setAside: mergeSetAside(setAside),
  });

  // A first run that sees more than one denial (audit mode, or a wide read grant) primes the grants;
  // the enforce runs below then confirm them and learn whatever it missed.
  const prime = async (phase: 'audit' | 'observe', extraGrants: Grant[], pick: (r: RunResult) => Denial[]) => {
    runs++;
    emit({ type: 'run-start', run: runs, phase, grants: grants.length });
    const result = await opts.runApp({ run: runs, phase, grants, ...(extraGrants.length ? { extraGrants } : {}) });
    last = result;
    emit({ type: 'run-end', run: runs, phase, result });
    // What the run saw stands (the child was audited or observed all the same); later runs pass NODE_OPTIONS.
    if (result.childLost) switchDelivery(describeLost(result.childLost));
    const vetted = vet(result.outcome === 'spawn-error' ? [] : pick(result), true);
    const candidates = vetted.keep;
    // A lookup of a missing path shows no need; nor, in an observe run, a denial the app survived.
    // (Unless the run's failure hid it: a loader's or a Worker's denial is its cause, fallback.ts; nor the one denial of a failed run.)
    const cause = hiddenCauses(result);
    const soleP = phase === 'observe' ? soleCause(runSucceeded(result), candidates) : undefined;
    for (const d of candidates) if (d !== soleP && (isMissingLookup(d) || isHasProbe(d) || (phase === 'observe' && isSurvived(d) && !cause(d)))) soft.mark(d);
    const primedFrom = new Set(grants.map(grantKey));
    const set = new GrantSet(grants);
    for (const [i, denial] of candidates.entries()) {
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
      if (absorb(denial, set, opts.caps)) continue;
      // Inside what was just refused (the folder an audited mkdtemp made from a refused template): no grant either.
      if (insideRefused(denial, refused, opts.caps)) continue;
      const step = planStep(denial, set, opts, runs);
      // Anything else (ungrantable, stuck, refused) is left for the enforce runs to confirm.
      if (step.type === 'refused') refuse(step.info);
      if (step.type === 'add' || step.type === 'replace') {
        noteStable(step.grant, denial, vetted.restated);
        if (step.type === 'replace') set.replace(step.old, step.grant);
        else set.add(step.grant);
        emit({ type: 'granted', run: runs, grant: step.grant, denial });
      }
    }
    grants = setAsideFallback(promoteCreatedDirs(set.toArray(), opts.fs), primedFrom, result);
    return { result, candidates };
  };

  // The first run's evidence is complete when it ran to the end (nothing it did was cut short).
  let complete = false;
  if (opts.audit && opts.maxRuns > 0) {
    const { result, candidates } = await prime('audit', [], (r) => auditCandidates(r, opts.fs));
    complete = runSucceeded(result);
    // The lookups of missing paths left out above are still worth showing.
    const idle = result.denials.filter((d) => d.source === 'channel' && d.permission === 'FileSystemRead' && isIdleProbe(d));
    for (const d of idle) observed.push(d), lookups.push(d);
    if (result.outcome === 'spawn-error') return done('app-failed', result.error ?? 'the app could not be started');
    emit({ type: 'audit-done', run: runs, events: result.denials.length, candidates: candidates.length });
  } else if (opts.observeRoot && opts.maxRuns > 0) {
    const root = opts.observeRoot;
    const implicit = new Set(opts.implicitReadGrants ?? []);
    // An observe run sees everything up to the first denial outside what it may do; while it fails on
    // one and that teaches a new grant, observe again with it (it sees further than an enforce run).
    for (let round = 0; round < MAX_OBSERVE_RUNS && runs < opts.maxRuns; round++) {
      const wide: Grant = { scope: 'fs.read', path: root, kind: 'dir', denials: [], notes: [] };
      // Child processes and Workers too, so that the run gets past them; the recorder notes their use.
      const extra: Grant[] = [wide];
      for (const scope of ['child', 'worker'] as const) if (!findCovering(grants, scope)) extra.push({ scope, denials: [], notes: [] });
      const before = new Set(grants.map(grantKey));
      const { result, candidates } = await prime('observe', extra, (r) =>
        observeCandidates(r, root, opts.caps, opts.fs).filter((d) => !implicit.has(d.resource)),
      );
      if (result.outcome === 'spawn-error') return done('app-failed', result.error ?? 'the app could not be started');
      emit({ type: 'observe-done', run: runs, modules: result.modules?.length ?? 0, candidates: candidates.length, root });
      for (const m of result.missing ?? []) {
        lookups.push({ permission: 'FileSystemRead', resource: m.file, code: 'ERR_ACCESS_DENIED', source: 'loaded', existed: false, ...(m.from ? { site: m.from } : {}), ...(m.api ? { message: `looked up with fs.${m.api}()` } : {}) });
      }
      complete = runSucceeded(result);
      const learnedMore = grants.length !== before.size || grants.some((g) => !before.has(grantKey(g)));
      // Another observe run pays off when a read outside the root or a capability cut this one short;
      // after a denied write (which the wide grant does not cover either) an enforce run sees as much,
      // and it confirms the narrow grants at once.
      if (runSucceeded(result) || !learnedMore || selectDenials(result).every((d) => d.permission === 'FileSystemWrite')) break;
    }
  }

  // Whatever produced them (initial grants, a promotion, a merge of evidence), no grant that breaks the
  // breadth rule is verified or returned.
  const breadthBreach = (): LearnResult | undefined => {
    const breach = grants.map((g) => ({ g, v: unacceptedBreadth(g, opts) })).find((x) => x.v !== undefined);
    if (!breach) return undefined;
    const d = breach.g.denials[0] ?? { permission: breach.g.scope, resource: breach.g.path ?? '', code: 'ERR_ACCESS_DENIED', source: 'uncaught' as const };
    refuse({ denial: d, grant: { scope: breach.g.scope, ...(breach.g.path !== undefined ? { path: breach.g.path } : {}), ...(breach.g.kind ? { kind: breach.g.kind } : {}) }, violation: breach.v! });
    grants = grants.filter((g) => g !== breach.g);
    return done('too-broad', `the grant ${breach.v!.value} breaks the breadth rule: ${breach.v!.reason}; ${acceptHint(breach.v!)}`);
  };
  const verifyRun = async (with_: Grant[]): Promise<RunResult> => {
    runs++;
    emit({ type: 'run-start', run: runs, phase: 'verify', grants: with_.length });
    const check = await opts.runApp({ run: runs, phase: 'verify', grants: with_ });
    last = check;
    emit({ type: 'run-end', run: runs, phase: 'verify', result: check });
    return check;
  };
  // Candidates left out: their evidence is reported as what the app got by without.
  const leaveOut = (removed: Grant[]) => {
    for (const g of removed) for (const d of g.denials) if (d.site !== undefined || d.source === 'loaded') observed.push(d);
  };

  // A verified set of grants, tried smaller still with --minimize.
  const afterVerified = async (): Promise<LearnResult> => {
    if (!opts.minimize) return done('verified');

    const outcome = await minimizeGrants(grants, opts, runs, emit);
    runs = outcome.runs;
    grants = outcome.grants;
    if (outcome.last) last = outcome.last;
    const result = done('verified');
    result.minimized = outcome.minimized;
    if (!outcome.changed) return result;
    // The smaller set was seen to work with the recorder; confirm it once more exactly as printed.
    runs++;
    emit({ type: 'run-start', run: runs, phase: 'verify', grants: grants.length });
    const again = await opts.runApp({ run: runs, phase: 'verify', grants });
    last = again;
    emit({ type: 'run-end', run: runs, phase: 'verify', result: again });
    if (!runSucceeded(again)) return { ...done('verify-failed', `the verification run with the minimized flags ${describeOutcome(again)}`), minimized: outcome.minimized };
    return { ...done('verified'), minimized: outcome.minimized };
  };

  // Two runs where the evidence allows: the observing run saw everything, so its grants (less the
  // candidates, when tight) are verified at once. Only a failing verification falls back to the loop.
  if (opts.fold && complete && runs < opts.maxRuns) {
    grants = promoteCreatedDirs(grants, opts.fs);
    const breach = breadthBreach();
    if (breach) return breach;
    const { base, candidates } = tight ? splitCandidates(grants, soft, ownState(grants)) : { base: grants, candidates: [] };
    const check = await verifyRun(base);
    if (runSucceeded(check)) {
      grants = base;
      if (tight) {
        leaveOut(candidates);
        tightened = { removed: candidates, kept: [], untried: [], trials: 0 };
      }
      return afterVerified();
    }
    // The loop learns what the observing run missed, and whatever left-out candidate the app needs.
    grants = base;
    pending = candidates;
  }

  for (;;) {
    if (runs >= opts.maxRuns) return done('run-limit', `stopped after ${runs} runs (--max-runs) with the app still denied`);
    runs++;
    emit({ type: 'run-start', run: runs, phase: 'learn', grants: grants.length });
    const result = await opts.runApp({ run: runs, phase: 'learn', grants });
    last = result;
    emit({ type: 'run-end', run: runs, phase: 'learn', result });
    // A child lost flags the command line gave: a failed run is run again with them in NODE_OPTIONS.
    if (result.childLost && switchDelivery(describeLost(result.childLost)) && !runSucceeded(result)) continue;
    for (const d of result.denials) if (d.source !== 'uncaught' && !isSpurious(d) && d.site !== undefined) observed.push(d);
    if (result.outcome === 'spawn-error') return done('app-failed', result.error ?? 'the app could not be started');

    // A Node child that died of a denial counts even when the app itself carried on.
    const childDied = result.denials.some((d) => d.thread === 'child' && d.source === 'uncaught');
    const succeeded = runSucceeded(result) && !childDied;
    if (!succeeded && isDuplicateGrantAbort(result.stderrTail)) {
      return done('no-progress', 'Node aborted at start-up on a grant listed twice (a permlearn bug: grants are meant to be normalised)');
    }
    // A path set aside as the fallback path was needed: give the set-aside grants back and run again.
    if (!succeeded && restoreIfNeeded(result)) continue;

    // A clean start may still have been denied things the app asked for and got by without
    // (caught, or has() said no): those are granted too unless the caller says not to.
    // Tight, a clean start is itself the trial without what it was denied: none of it is granted.
    const vetted = vet(
      succeeded
        ? opts.grantCaught === false
          ? []
          : tight
            ? caughtRequests(result, grants, opts.fs).filter((d) => d.permission === 'FileSystemRead' && ownState(grants)({ scope: 'fs.read', path: resourcePath(d), denials: [], notes: [] }))
            : caughtRequests(result, grants, opts.fs)
        : preferPresent(selectDenials(result), opts.fs),
      succeeded,
    );
    const denials = vetted.keep;
    if (succeeded && denials.length === 0) break;
    if (denials.length === 0 && pending.length > 0) {
      // Failed with nothing to learn after the folded verification left candidates out: put them back.
      grants = normaliseGrants([...grants, ...pending]);
      pending = [];
      continue;
    }
    if (denials.length === 0 && vetted.setAside.length > 0) {
      return done('ungrantable', `the app cannot do without ${vetted.setAside.map((s) => s.reason).join('; ')}`);
    }
    if (denials.length === 0) {
      return done('app-failed', failureReason(result));
    }
    const before = new Set(grants.map(grantKey));
    const next = new GrantSet(grants);
    const stuck: string[] = [];
    const childLost: string[] = [];
    const refusedNow: Refusal[] = [];
    const siblings = siblingLookups(denials, lookups, grants, opts.fs);
    // What the app survived, and the rest of a lookup, show no need by themselves: tightening tries without them.
    // Except what a failed run's failure hid (fallback.ts) and the one denial a failed run had: the app failed without it, wherever it was caught.
    const cause = succeeded ? () => false : hiddenCauses(result);
    const sole = soleCause(succeeded, denials);
    for (const d of denials) if (d !== sole && ((isSurvived(d) && !cause(d)) || isMissingLookup(d) || isHasProbe(d))) soft.mark(d);
    for (const d of siblings) soft.mark(d);
    for (const [i, denial] of [...denials, ...siblings].entries()) {
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
      const step = planStep(denial, next, opts, runs);
      if (step.type === 'ungrantable') {
        if (!ungrantable.some((u) => u.code === step.info.code && u.reason === step.info.reason)) ungrantable.push(step.info);
      } else if (step.type === 'stuck') {
        stuck.push(step.reason);
      } else if (step.type === 'child-lost') {
        childLost.push(step.reason);
      } else if (step.type === 'refused') {
        refusedNow.push(step.info);
        refuse(step.info);
      } else if (step.type === 'add') {
        noteStable(step.grant, denial, vetted.restated);
        next.add(step.grant);
        emit({ type: 'granted', run: runs, grant: step.grant, denial });
      } else {
        next.replace(step.old, step.grant);
        if (step.event) emit(step.event);
        emit({ type: 'granted', run: runs, grant: step.grant, denial });
      }
    }
    grants = next.toArray();
    const changed = grants.length !== before.size || grants.some((g) => !before.has(grantKey(g)));
    grants = setAsideFallback(promoteCreatedDirs(grants, opts.fs), before, result);
    if (succeeded && !changed) break;
    if (childLost.length > 0) {
      // The child needs the flags where it still reads them; with nowhere left to put them, say why.
      if (switchDelivery(childLost[0]!)) continue;
      if (!changed) return done('child-lost-grants', childLost[0]!);
    }
    if (!changed) {
      if (ungrantable.length) return done('ungrantable', ungrantable.map((u) => u.reason).join('; '));
      if (refusedNow.length) return done('too-broad', `the app needs ${describeRefusal(refusedNow[0]!)}`);
      return done('no-progress', stuck[0] ?? 'the same denial came back after its grant');
    }
  }

  // A path granted while missing that the last run created as a folder: `dir/*`, as above.
  grants = promoteCreatedDirs(grants, opts.fs);
  const breach = breadthBreach();
  if (breach) return breach;
  // Tight: the loop's last run passed with every grant. Most candidates are removable, so the
  // verification run goes without all of them; only if it fails are they tried in groups.
  const { base, candidates } = tight ? splitCandidates(grants, soft, ownState(grants)) : { base: grants, candidates: [] };
  if (candidates.length > 0) {
    const first = await verifyRun(base);
    if (runSucceeded(first)) {
      grants = base;
      leaveOut(candidates);
      tightened = { removed: candidates, kept: [], untried: [], trials: 0 };
      return afterVerified();
    }
    const trial = async (with_: Grant[]): Promise<boolean> => {
      runs++;
      emit({ type: 'run-start', run: runs, phase: 'tighten', grants: with_.length });
      const r = await opts.runApp({ run: runs, phase: 'tighten', grants: with_ });
      last = r;
      emit({ type: 'run-end', run: runs, phase: 'tighten', result: r });
      return startedCleanly(r);
    };
    // One run stays for the verification of the result.
    const reduction = await reduceCandidates(base, candidates, trial, { maxTrials: Math.max(0, opts.maxRuns - runs - 1), baseFails: true });
    grants = normaliseGrants([...base, ...reduction.kept]);
    leaveOut(reduction.removed);
    tightened = { removed: reduction.removed, kept: reduction.kept.filter((g) => !reduction.untried.includes(g)), untried: reduction.untried, trials: reduction.trials };
  }
  // Verification: exactly the learned flags, no recorder.
  const check = await verifyRun(grants);
  if (!runSucceeded(check)) {
    return done('verify-failed', `the verification run with exactly the learned flags ${describeOutcome(check)}`);
  }
  return afterVerified();
}

export interface Tightened {
  removed: Grant[];
  kept: Grant[];
  /** Candidates kept untried because the run budget ran out. */
  untried: Grant[];
  /** Trial runs spent (the verification run without the candidates not counted). */
  trials: number;
}

export interface Minimized {
  removed: Grant[];
  narrowed: { from: Grant; to: Grant[] }[];
  /** Grants left untried when the run budget ran out. */
  untried: Grant[];
}

/** Did a run start cleanly with nothing denied escaping anywhere (main thread, Worker or Node child)? */
function startedCleanly(r: RunResult): boolean {
  return runSucceeded(r) && !r.denials.some((d) => d.source === 'uncaught');
}

/** Planning many denials yields to the event loop this often, so that a signal is answered at once. */
const YIELD_EVERY = 500;

/** Let timers and signal handlers run: planning is pure, but it can be long. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Observe runs in a row at most, while each fails on a denial outside the root and teaches a grant. */
const MAX_OBSERVE_RUNS = 8;

/** A widened grant is tried narrowed back to its files only when they are at most this many. */
export const MAX_NARROWED = 3;

/** The exact grants a widened grant stands for: one per resource of its evidence. */
function narrowedGrants(g: Grant, fs: FsProbe, caps: Capabilities): Grant[] {
  const out: Grant[] = [];
  for (const d of g.denials) {
    const need = needOf(d, caps);
    if (need.type !== 'fs' || need.prefix) continue;
    out.push({ scope: g.scope, path: need.path, kind: initialKind(fs, need.path), denials: [d], notes: [] });
  }
  return normaliseGrants(out);
}

/**
 * `--minimize`: one grant at a time, try the app without it; a widened grant it cannot do without is
 * tried narrowed back to the files of its evidence. Every change is kept only if the app still starts
 * cleanly. Bounded by the run budget; what was not tried is reported.
 */
async function minimizeGrants(start: Grant[], opts: LearnOptions, runsSoFar: number, emit: (e: LearnEvent) => void) {
  let grants = [...start];
  let runs = runsSoFar;
  let last: RunResult | undefined;
  const minimized: Minimized = { removed: [], narrowed: [], untried: [] };
  // Riskiest first: capabilities, then writes, then reads, widest first.
  const rank = (g: Grant) => (g.path === undefined ? 0 : g.scope === 'fs.write' ? 1 : 2);
  const order = [...start].sort((a, b) => rank(a) - rank(b) || Number(b.kind === 'dir') - Number(a.kind === 'dir'));
  const attempt = async (candidate: Grant[]): Promise<boolean> => {
    runs++;
    emit({ type: 'run-start', run: runs, phase: 'minimize', grants: candidate.length });
    const r = await opts.runApp({ run: runs, phase: 'minimize', grants: candidate });
    last = r;
    emit({ type: 'run-end', run: runs, phase: 'minimize', result: r });
    return startedCleanly(r);
  };
  for (const g of order) {
    if (runs >= opts.maxRuns) {
      minimized.untried.push(g);
      continue;
    }
    const without = grants.filter((x) => grantKey(x) !== grantKey(g));
    if (await attempt(without)) {
      grants = without;
      minimized.removed.push(g);
      emit({ type: 'minimized', run: runs, grant: g, outcome: 'removed' });
      continue;
    }
    const narrow = g.notes.some((n) => n.code === 'generalised') ? narrowedGrants(g, opts.fs, opts.caps) : [];
    // Narrowing trades one flag for several: worth it for a few files, not for a dependency tree.
    if (narrow.length > 0 && narrow.length <= MAX_NARROWED && runs < opts.maxRuns) {
      const candidate = normaliseGrants([...without, ...narrow]);
      if (await attempt(candidate)) {
        grants = candidate;
        minimized.narrowed.push({ from: g, to: narrow });
        emit({ type: 'minimized', run: runs, grant: g, outcome: 'narrowed', to: narrow });
        continue;
      }
    }
    emit({ type: 'minimized', run: runs, grant: g, outcome: 'kept' });
  }
  const changed = minimized.removed.length > 0 || minimized.narrowed.length > 0;
  return { grants, runs, last, minimized, changed };
}

/**
 * What an audit run suggests granting: every check the channels published, less the noise. A
 * directory read is left out: Node publishes one for the package scope of every module it loads,
 * and an app that really lists a directory is caught by the enforce runs that follow.
 */
export function auditCandidates(r: RunResult, fs: FsProbe): Denial[] {
  // A lookup of a file the same run writes is the app's own state, read back on its next start.
  const written = new Set(r.denials.filter((d) => d.permission === 'FileSystemWrite' && d.resource !== '').map((d) => resourcePath(d)));
  // 'caught' in an audit run: what Node blocks even in audit mode (an addon on 24), reported at the source.
  return dedupeDenials(r.denials.filter((d) => (d.source === 'channel' || d.source === 'caught') && !isSpurious(d))).filter((d) => {
    if (d.permission !== 'FileSystemRead' || d.resource === '') return true;
    const abs = resourcePath(d);
    return fs.kind(abs) !== 'dir' && (!isIdleProbe(d) || written.has(abs));
  });
}

/**
 * A read of something that did not exist when it was checked, outside node_modules: a config-file
 * search (`.prettierrc.*` in every folder up to `/`), an optional file. In enforce mode such a lookup fails as a denial
 * instead of "not found", which apps mostly treat alike; the enforce runs still grant one that turns
 * out to matter (Node's own module resolution, say), at one run each.
 */
export function isIdleProbe(d: Denial): boolean {
  // Inside node_modules a missing path is Node's own module resolution at work (package.json files of
  // nested lookups, extension probing), which 22+ needs granted: those stay.
  return d.existed === false && !d.resource.includes('/node_modules/');
}

/**
 * What an observe run suggests granting: every module file it loaded, and on 22+ (where the loader
 * checks them) the package.json of each package those files belong to; plus whatever was denied
 * outside the wide grant. Each becomes evidence of source 'loaded'.
 */
export function observeCandidates(r: RunResult, root: string, caps: Capabilities, fs: FsProbe): Denial[] {
  const cwd = root;
  const read = ({ file, from, hits, api }: LoadedFile): Denial => ({
    permission: 'FileSystemRead',
    resource: file,
    code: 'ERR_ACCESS_DENIED',
    source: 'loaded',
    cwd,
    // The requiring file (or the fs call) is the call site, as for a denial of the same read.
    ...(from ? { site: from } : {}),
    ...(hits !== undefined ? { hits } : {}),
    ...(api ? { message: `read with fs.${api}()` } : {}),
  });
  const PERMISSION_OF_USE = { child: 'ChildProcess', worker: 'WorkerThreads' } as const;
  const use = (u: Use): Denial => ({
    permission: PERMISSION_OF_USE[u.scope],
    resource: '',
    code: 'ERR_ACCESS_DENIED',
    source: 'loaded',
    hits: u.hits,
    ...(u.site ? { site: u.site } : {}),
    ...(u.api ? { message: `started with ${u.api}()` } : {}),
  });
  const out: Denial[] = [];
  const packages = new Map<string, LoadedFile>();
  for (const loaded of r.modules ?? []) {
    out.push(read(loaded));
    const m = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(loaded.file);
    if (m && caps.autoGrantsEntry && !packages.has(`${m[1]}/package.json`)) packages.set(`${m[1]}/package.json`, { ...loaded, file: `${m[1]}/package.json` });
  }
  // 22+ checks every package.json the resolver looks at, including ones that do not exist.
  // The resolver skips a node_modules folder that does not exist, so only probes inside existing ones count.
  if (caps.autoGrantsEntry) {
    for (const pj of r.probes ?? []) {
      const nm = /^(.*\/node_modules)\/(?:@[^/]+\/)?[^/]+\/package\.json$/.exec(pj.file);
      if (!nm || fs.kind(nm[1]!) === 'dir') out.push(read(pj));
    }
  }
  // Manifests no probe named (a package reached some other way): the package of each loaded file, 22+.
  for (const pj of packages.values()) if (fs.kind(pj.file) === 'file') out.push(read(pj));
  // Files the app read itself, and the child processes and Workers it started.
  for (const t of r.touched ?? []) out.push(read(t));
  for (const u of r.uses ?? []) out.push(use(u));
  // Denials outside the wide grant are real needs too.
  out.push(...preferPresent(selectDenials(r), fs));
  return dedupeDenials(out);
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
      const note = { code: 'created-at-run-time' as const, detail: `${g.path} did not exist before the app ran and the app created it; granted as ${g.path}/* so it is covered whether or not it exists at start-up` };
      return { ...g, kind: 'created-dir' as const, notes: [...g.notes, note] };
    }),
  );
}

/**
 * A needed read of a path that does not exist: the other missing paths looked up from the same call
 * site in the first run (the rest of a config-file search, say), which the app will need next.
 */
export function siblingLookups(needed: readonly Denial[], lookups: readonly Denial[], grants: readonly Grant[], fs: FsProbe): Denial[] {
  const sites = new Set(
    needed
      .filter((d) => d.site !== undefined && readsMissing(d, fs))
      .map((d) => siteFile(d.site!)),
  );
  if (sites.size === 0) return [];
  const taken = new Set(needed.map((d) => resourcePath(d)));
  const index = GrantSet.view(grants);
  return dedupeDenials(
    lookups.filter((l) => l.site !== undefined && sites.has(siteFile(l.site)) && !taken.has(resourcePath(l)) && !isCoveredDenial(l, index)),
  );
}

/** A call site without its column: the same loop over candidate names can report different columns. */
function siteFile(site: string): string {
  return site.replace(/:\d+$/, '');
}

/**
 * What a run that started cleanly was denied all the same, by the app's own code: caught denials and
 * checks the channels published with a call site, less Node's package-scope lookups, the Worker
 * Inspector event, lookups of missing paths, and what a grant already covers.
 */
export function caughtRequests(r: RunResult, grants: readonly Grant[], fs: FsProbe): Denial[] {
  const index = GrantSet.view(grants);
  return dedupeDenials(
    r.denials.filter(
      (d) =>
        (d.source === 'caught' || d.source === 'channel' || d.source === 'logged') &&
        d.site !== undefined &&
        !isSpurious(d) &&
        !isScopeLookup(d, index) &&
        !isCoveredDenial(d, index) &&
        !readsMissing(d, fs),
    ),
  );
}

/** A read grant of a path the app may also write (its own state, read back on a later start). */
function ownState(grants: readonly Grant[]): (g: Grant) => boolean {
  const index = GrantSet.view(grants);
  const written = new Set(grants.filter((w) => w.scope === 'fs.write' && w.path !== undefined).map((w) => w.path));
  return (g) => g.scope === 'fs.read' && g.path !== undefined && (written.has(g.path) || findCovering(index, 'fs.write', g.path) !== undefined);
}

/** Denials no grant answers, less Node's package-scope lookups. */
function notGranted(denials: readonly Denial[], grants: readonly Grant[]): Denial[] {
  const index = GrantSet.view(grants);
  return denials.filter((d) => !isCoveredDenial(d, index) && !isScopeLookup(d, index));
}

/** A read of a directory above a granted file: Node's package-scope lookup for a module it loaded. */
function isScopeLookup(d: Denial, grants: GrantSet): boolean {
  if (d.permission !== 'FileSystemRead' || d.resource === '') return false;
  return grants.hasBelow('fs.read', resourcePath(d));
}

function isCoveredDenial(d: Denial, grants: GrantSet): boolean {
  const scope = fsScopeOf(d.permission);
  if (scope) {
    return d.resource !== '' && findCovering(grants, scope, resourcePath(d)) !== undefined;
  }
  return grants.capabilities().some((g) => !isFsScope(g.scope) && g.denials.some((x) => x.permission === d.permission));
}

export function describeOutcome(r: RunResult): string {
  if (r.outcome === 'timeout') return 'neither exited nor became ready in time';
  if (r.outcome === 'spawn-error') return `could not start (${r.error ?? 'unknown error'})`;
  if (r.signal) return `was killed by ${r.signal}`;
  return `exited with code ${r.exitCode}`;
}

function failureReason(r: RunResult): string {
  const failed = exerciseFailed(r);
  if (r.outcome === 'ready' && failed) {
    const how = failed.timedOut ? 'timed out' : `exited with code ${failed.exitCode}`;
    return `the exercise command \`${failed.command}\` ${how} with no permission denial seen in the app`;
  }
  if (r.outcome === 'timeout') {
    if (r.waitedFor) return `the app did not become ready in time (no ${r.waitedFor} came), and no permission was denied`;
    return 'the app neither exited nor became ready in time, with no permission denial; for a server, pass --ready-port, --ready-url, --ready-stdout or --timeout';
  }
  const base = `the app ${describeOutcome(r)} without a permission denial`;
  if (!r.recorderLoaded) {
    return `${base} reported by permlearn's recorder, which did not load in any Node process it started${r.stderrDenials.length > 0 ? ' (its stderr shows denial text; permlearn does not grant on printed text)' : ''}`;
  }
  if (r.stderrDenials.length > 0) {
    return `${base} in its own process (its stderr shows denial text, which came from a child process or was printed by the app; permlearn does not grant on printed text)`;
  }
  return base;
}
