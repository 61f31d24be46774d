// The end of a learn: verification with exactly the learned flags, tightening folded into it (tighten.ts),
// and --minimize after it. Every run goes through the state's one run helper.
import { grantKey, normaliseGrants, type Grant } from '../grants.js';
import { splitCandidates } from '../tighten.js';
import type { LearnResult } from './types.js';
import { describeOutcome, runSucceeded } from './outcome.js';
import { ownState } from './candidates.js';
import { promoteCreatedDirs } from './plan-step.js';
import { minimizeGrants } from './minimize.js';
import { candidateUnits, reduceUnits } from './tighten-units.js';
import { narrowFolders } from './narrow.js';
import type { LearnState } from './state.js';

/** Tight: the grants less the candidates (grants whose only evidence is soft, and folders there only for
 *  metadata checks of their own path, narrowed: narrow.ts); otherwise all of them. */
function split(s: LearnState): { base: Grant[]; candidates: Grant[] } {
  if (!s.tight) return { base: s.grants, candidates: [] };
  const narrowed = narrowFolders(s.grants, s.opts, s.narrowTried, s.listed);
  for (const w of narrowed.wide) s.narrowTried.add(w.path!);
  const { base, candidates } = splitCandidates(narrowed.grants, s.soft, ownState(narrowed.grants));
  return { base, candidates: [...candidates, ...narrowed.wide] };
}

/** Verified without the candidates: they are what the app got by without. */
function verifiedWithout(s: LearnState, base: Grant[], candidates: Grant[]): Promise<LearnResult> {
  s.grants = base;
  s.leaveOut(candidates);
  s.tightened = { removed: candidates, kept: [], untried: [], trials: 0 };
  return afterVerified(s);
}

/**
 * Two runs where the evidence allows: the priming run saw everything, so its grants (less the
 * candidates, when tight) are verified at once. A result when that settles it; otherwise undefined,
 * and the loop learns what the priming run missed, and whatever left-out candidate the app needs.
 */
export async function verifyFolded(s: LearnState): Promise<LearnResult | undefined> {
  s.grants = promoteCreatedDirs(s.grants, s.opts.fs);
  const breach = s.breadthBreach();
  if (breach) return breach;
  const { base, candidates } = split(s);
  // A candidate a failed fold left out and a later run was denied again: leaving it out once more would
  // only repeat the failed fold and the runs after it (Vite on 22: three folds failing on the same two
  // reads). No fold then: the loop runs with every grant, and the tightening after it tries the candidates
  // in groups (verifyLearned), which tells which of them the app needs.
  if (candidates.some((g) => s.foldedOut.has(grantKey(g)))) return undefined;
  // Again after a failed one (loop.ts, `refold`): what that one left out and is still not known needed stays out.
  const left = [...s.pending, ...candidates];
  const check = await s.run('verify', base);
  if (runSucceeded(check)) {
    if (s.tight) return verifiedWithout(s, base, left);
    s.grants = base;
    return afterVerified(s);
  }
  for (const g of left) s.foldedOut.add(grantKey(g));
  // The priming run saw everything and one candidate unit was left out (one grant, or one search's
  // lookups): the failure is that unit's. It goes back in and the next run verifies, rather than an
  // enforce run to see the denial and a verification after it (Prettier's search for its package.json:
  // 4 runs, now 3). Should that fail too, the loop learns with every grant what the priming run missed.
  if (s.tight && !s.primingGap && s.pending.length === 0 && candidateUnits(candidates, s.opts.fs).length === 1) {
    s.grants = normaliseGrants([...base, ...candidates]);
    const again = await s.run('verify', s.grants);
    if (!runSucceeded(again)) return undefined;
    s.tightened = { removed: [], kept: candidates, untried: [], trials: 1 };
    return afterVerified(s);
  }
  s.grants = base;
  s.pending = left;
  return undefined;
}

/** The loop's last run passed with every grant: tighten, then verify with exactly the learned flags. */
export async function verifyLearned(s: LearnState): Promise<LearnResult> {
  // A path granted while missing that the last run created as a folder: `dir/*`, as in the loop.
  s.grants = promoteCreatedDirs(s.grants, s.opts.fs);
  const breach = s.breadthBreach();
  if (breach) return breach;
  // Tight: most candidates are removable, so the verification run goes without all of them; only if
  // it fails are they tried in groups.
  const { base, candidates } = split(s);
  if (candidates.length > 0) {
    const first = await s.run('verify', base);
    if (runSucceeded(first)) return verifiedWithout(s, base, candidates);
    // Tried by call site, each failed trial read for which unit it failed without (tighten-units.ts).
    // One run stays for the verification of the result.
    const trial = (with_: Grant[]) => s.run('tighten', with_);
    const reduction = await reduceUnits(base, candidateUnits(candidates, s.opts.fs), trial, {
      maxTrials: Math.max(0, s.opts.maxRuns - s.runs - 1),
      fs: s.opts.fs,
    });
    s.grants = normaliseGrants([...base, ...reduction.kept]);
    s.leaveOut(reduction.removed);
    s.tightened = {
      removed: reduction.removed,
      kept: reduction.kept.filter((g) => !reduction.untried.includes(g)),
      untried: reduction.untried,
      trials: reduction.trials,
    };
  }
  // Verification: exactly the learned flags, no recorder.
  const check = await s.run('verify', s.grants);
  if (!runSucceeded(check)) return s.done('verify-failed', `the verification run with exactly the learned flags ${describeOutcome(check)}`);
  return afterVerified(s);
}

/** A verified set of grants, tried smaller still with --minimize. */
async function afterVerified(s: LearnState): Promise<LearnResult> {
  if (!s.opts.minimize) return s.done('verified');
  const outcome = await minimizeGrants(s, s.grants);
  s.grants = outcome.grants;
  const result = s.done('verified');
  result.minimized = outcome.minimized;
  if (!outcome.changed) return result;
  // The smaller set was seen to work with the recorder; confirm it once more exactly as printed.
  const again = await s.run('verify', s.grants);
  if (!runSucceeded(again))
    return { ...s.done('verify-failed', `the verification run with the minimized flags ${describeOutcome(again)}`), minimized: outcome.minimized };
  return { ...s.done('verified'), minimized: outcome.minimized };
}
