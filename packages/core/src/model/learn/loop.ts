// The learn loop: the strategy's priming runs, then enforce runs (run, read denials, grant, run
// again) until the app starts cleanly, then verification. Running the app is injected, so this file
// decides everything and does nothing.
import { isSpurious } from '../denials.js';
import { vetDenials } from '../volatile.js';
import { GrantSet, normaliseGrants } from '../grants.js';
import { resourcePath } from '../paths/index.js';
import { isDuplicateGrantAbort } from '../parse-stderr.js';
import { isHasProbe, isMissingLookup, isSurvived, readsProjectContent } from '../tighten.js';
import { hiddenCauses } from '../fallback.js';
import { describeLost, soleCause } from '../child-flags.js';
import type { LearnOptions, LearnResult, RunResult } from './types.js';
import { failureReason, runSucceeded } from './outcome.js';
import { caughtRequests, isCoveredDenial, ownState, preferPresent, provenLeftOut, selectDenials, siblingLookups } from './candidates.js';
import type { Denial } from '../types.js';
import { describeRefusal } from './plan-step.js';
import { applyDenials } from './apply.js';
import { prime } from './prime.js';
import { verifyFolded, verifyLearned } from './verify.js';
import { failedSearch } from './tighten-units.js';
import { LearnState } from './state.js';

/** Run the loop until the app starts cleanly, then verify with exactly the learned grants. */
export async function learn(opts: LearnOptions): Promise<LearnResult> {
  const s = new LearnState(opts);
  // The first run's evidence is complete when it ran to the end (nothing it did was cut short).
  let complete = false;
  if (opts.strategy) {
    const primed = await prime(s, opts.strategy);
    if (!('complete' in primed)) return primed;
    complete = primed.complete;
    s.primedComplete = complete;
  }
  if (opts.fold && complete && s.runs < opts.maxRuns) {
    const folded = await verifyFolded(s);
    if (folded) return folded;
  }
  for (;;) {
    if (s.runs >= opts.maxRuns) return s.done('run-limit', `stopped after ${s.runs} runs (--max-runs) with the app still denied`);
    const result = await s.run('learn', s.grants);
    // A child lost flags the command line gave: a failed run is run again with them in NODE_OPTIONS.
    if (result.childLost && s.switchDelivery(describeLost(result.childLost)) && !runSucceeded(result)) continue;
    const step = await enforceStep(s, result);
    if (step === 'refold' && s.runs < opts.maxRuns) {
      // The priming run's evidence was complete and this run only named what the folded verification
      // left out: with that back, the next run can be the verification itself.
      const folded = await verifyFolded(s);
      if (folded) return folded;
      continue;
    }
    if (step === 'again' || step === 'refold') continue;
    if (step === 'clean') break;
    return step;
  }
  return verifyLearned(s);
}

/** One enforce run read: `clean` when the app started cleanly with nothing left to learn, `again`
 *  to run once more, `refold` when it failed only for candidates a folded verification left out (now
 *  granted back) or started cleanly and was granted only its own state, or the result when learning stops here. */
async function enforceStep(s: LearnState, result: RunResult): Promise<'clean' | 'again' | 'refold' | LearnResult> {
  const { opts } = s;
  for (const d of result.denials) if (d.source !== 'uncaught' && !isSpurious(d) && d.site !== undefined) s.observed.push(d);
  if (result.outcome === 'spawn-error') return s.done('app-failed', result.error ?? 'the app could not be started');

  // A Node child that died of a denial counts even when the app itself carried on.
  const childDied = result.denials.some((d) => d.thread === 'child' && d.source === 'uncaught');
  const succeeded = runSucceeded(result) && !childDied;
  if (!succeeded && isDuplicateGrantAbort(result.stderrTail)) {
    return s.done('no-progress', 'Node aborted at start-up on a grant listed twice (a permlearn bug: grants are meant to be normalised)');
  }
  // A path set aside as the fallback path was needed: give the set-aside grants back and run again.
  if (!succeeded && s.restoreIfNeeded(result)) return 'again';

  // A clean start may still have been denied things the app asked for and got by without
  // (caught, or has() said no): those are granted too unless the caller says not to.
  // Tight, a clean start is itself the trial without what it was denied: none of it is granted.
  const content = (d: Denial) => readsProjectContent(d, opts.fs, opts.generalise?.root);
  const vetted = s.vet(
    succeeded
      ? opts.grantCaught === false
        ? []
        : s.tight
          ? caughtRequests(result, s.grants, opts.fs).filter(
              (d) =>
                d.permission === 'FileSystemRead' &&
                (ownState(s.grants)({ scope: 'fs.read', path: resourcePath(d), kind: 'file', denials: [], notes: [] }) || content(d)),
            )
          : caughtRequests(result, s.grants, opts.fs)
      : preferPresent(selectDenials(result), opts.fs, (d) => vetDenials([d], opts.volatile, false).keep.length > 0),
    succeeded,
  );
  const denials = vetted.keep;
  if (succeeded && denials.length === 0) return 'clean';
  if (denials.length === 0 && s.pending.length > 0) {
    // Failed with nothing to learn after the folded verification left candidates out: put them back.
    s.grants = normaliseGrants([...s.grants, ...s.pending]);
    s.pending = [];
    return 'again';
  }
  if (denials.length === 0 && vetted.setAside.length > 0) {
    return s.done('ungrantable', `the app cannot do without ${vetted.setAside.map((x) => x.reason).join('; ')}`);
  }
  if (denials.length === 0) return s.done('app-failed', failureReason(result));

  // Failed without what the folded verification left out, and for nothing else: those are needed.
  const proven = succeeded ? [] : provenLeftOut(denials, s.pending);
  const isProven = (d: Denial) => proven.some((g) => isCoveredDenial(d, GrantSet.view([g])));
  const siblings = siblingLookups(denials, s.lookups, s.grants, opts.fs);
  // What the app survived, and the rest of a lookup, show no need by themselves: tightening tries without them.
  // Except what a failed run's failure hid (fallback.ts) and the one denial a failed run had: the app failed without it, wherever it was caught.
  const cause = succeeded ? () => false : hiddenCauses(result);
  const sole = soleCause(succeeded, denials);
  // A failed run that acted only on one search's lookups failed on that search (tighten-units.ts).
  const searched = failedSearch(succeeded, denials, siblings, opts.fs, opts.generalise?.root);
  for (const d of denials)
    if (d !== sole && !searched(d) && !isProven(d) && ((isSurvived(d) && !cause(d) && !content(d)) || isMissingLookup(d) || isHasProbe(d))) s.soft.mark(d);
  for (const d of siblings) if (!searched(d)) s.soft.mark(d);
  const applied = await applyDenials(s, [...denials, ...siblings], vetted.restated, result, 'enforce');
  if (proven.length > 0) s.pending = s.pending.filter((g) => !proven.includes(g));
  if (succeeded && !applied.changed) return 'clean';
  // Tight, a clean start is granted only reads of what the app itself writes (its own state, which it
  // looked for before creating it): the read fails "not found" now instead of denied, inside the same
  // catch, so another learning run would see what this one saw. The next run is the verification.
  if (succeeded && s.tight && opts.fold && applied.childLost.length === 0) return 'refold';
  if (applied.childLost.length > 0) {
    // The child needs the flags where it still reads them; with nowhere left to put them, say why.
    if (s.switchDelivery(applied.childLost[0]!)) return 'again';
    if (!applied.changed) return s.done('child-lost-grants', applied.childLost[0]!);
  }
  if (proven.length > 0 && applied.changed && applied.childLost.length === 0) return 'refold';
  // Failed on one search alone, after a priming run that saw everything: with the search granted, the
  // next run can be the verification (a static server's lookups under a missing folder: 6 runs, now 4).
  if (!succeeded && s.primedComplete && opts.fold && applied.changed && applied.childLost.length === 0 && denials.every(searched)) return 'refold';
  if (!applied.changed) {
    if (s.ungrantable.length) return s.done('ungrantable', s.ungrantable.map((u) => u.reason).join('; '));
    if (applied.refused.length) return s.done('too-broad', `the app needs ${describeRefusal(applied.refused[0]!)}`);
    return s.done('no-progress', applied.stuck[0] ?? 'the same denial came back after its grant');
  }
  return 'again';
}
