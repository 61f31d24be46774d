// The learn loop: run, read denials, grant, run again, then verify. Running the app is injected,
// so this file decides everything and does nothing.
import type { Denial } from '../types.js';
import { dedupeDenials, denialKey, isSpurious } from '../denials.js';
import { GrantSet, findCovering, grantKey, normaliseGrants, type Grant } from '../grants.js';
import { resourcePath } from '../paths/index.js';
import { acceptHint } from '../breadth.js';
import { isDuplicateGrantAbort } from '../parse-stderr.js';
import { mergeSetAside, vetDenials, type SetAside } from '../volatile.js';
import { isHasProbe, isMissingLookup, isSurvived, reduceCandidates, SoftEvidence, splitCandidates } from '../tighten.js';
import { fallbackGrants, hiddenCauses, isLoaderDenial } from '../fallback.js';
import { describeLost, soleCause } from '../child-flags.js';
import type { LearnOptions, LearnResult, LearnStatus, Refusal, RunResult, Tightened, Ungrantable } from './types.js';
import { describeOutcome, failureReason, runSucceeded, startedCleanly } from './outcome.js';
import { auditCandidates, caughtRequests, isCoveredDenial, isIdleProbe, notGranted, observeCandidates, ownState, preferPresent, selectDenials, siblingLookups } from './candidates.js';
import { absorb, describeRefusal, insideRefused, planStep, promoteCreatedDirs, unacceptedBreadth } from './plan-step.js';
import { minimizeGrants } from './minimize.js';

/** Planning many denials yields to the event loop this often, so that a signal is answered at once. */
const YIELD_EVERY = 500;

/** Let timers and signal handlers run: planning is pure, but it can be long. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Observe runs in a row at most, while each fails on a denial outside the root and teaches a grant. */
const MAX_OBSERVE_RUNS = 8;


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

