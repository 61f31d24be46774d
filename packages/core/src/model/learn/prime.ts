// The priming runs of a strategy (strategies/): run, take the strategy's candidates, grant them through
// the one grant-applying path, and say whether the evidence was complete (the run ran to the end).
import { grantKey } from '../grants.js';
import { isSameOrUnder, resourcePath } from '../paths/index.js';
import { isFatalLookup, isGuardedRead, isHasProbe, isMissingLookup, isSurvived, readsProjectContent } from '../tighten.js';
import { denialKey } from '../denials.js';
import { hiddenCauses } from '../fallback.js';
import { describeLost, soleCause } from '../child-flags.js';
import type { Denial } from '../types.js';
import type { LearnResult } from './types.js';
import { runSucceeded } from './outcome.js';
import { ownState } from './candidates.js';
import { applyDenials } from './apply.js';
import { MissingFolderSearches, searchRoot } from './missing-folder.js';
import { requestFolderOf } from './request-folder.js';
import { addonReadUnplanned } from '../addon-read.js';
import type { LearnState } from './state.js';
import type { PrimeStrategy } from './strategies/types.js';
import { yieldToEventLoop } from '../yield.js';

/** A first run that sees more than one denial primes the grants; the enforce runs then confirm them
 *  and learn whatever it missed. Returns whether the last priming run's evidence is complete, or the
 *  result when the app could not be started. */
export async function prime(s: LearnState, strategy: PrimeStrategy): Promise<{ complete: boolean } | LearnResult> {
  let complete = false;
  for (let round = 0; round < strategy.maxRounds && s.runs < s.opts.maxRuns; round++) {
    const before = new Set(s.grants.map(grantKey));
    const result = await s.run(strategy.phase, s.grants, strategy.extraGrants(s.grants));
    // What the run saw stands (the child was audited or observed all the same); later runs pass NODE_OPTIONS.
    if (result.childLost) s.switchDelivery(describeLost(result.childLost));
    const seen = strategy.seen(result);
    // Each pass over a large run (thousands of checks) is long: a signal is let in between them.
    const chosen = result.outcome === 'spawn-error' ? [] : strategy.candidates(result, s.opts);
    await yieldToEventLoop();
    // A lookup of a missing path whose catch stops the app on a denial is a need (tighten.ts), granted
    // now: the strategy's own lookups, and those it leaves out (a config search), which would only
    // cost a run that crashes on each.
    // Every report of a path counts, not only the first: the same lookup asked again from another call
    // site (the recorder reports a missing path again from a new site) may be the one no try catches.
    const fatal = new Set(
      result.outcome === 'spawn-error' ? [] : [...chosen, ...seen.lookups, ...result.denials].filter((d) => isFatalLookup(d, s.opts.fs)).map(denialKey),
    );
    // And a lookup of a path where the app writes (its own state: a file it looks for at start-up and
    // writes later, read back on its next start): granted as a candidate, which the verification keeps
    // as the app's own state, as an audit run's check of it is. An observe run lets the read through
    // ("not found"), so without this it would be no evidence at all, and the profile would lack a read
    // the app needs on every start after its first.
    const own = ownStateLookups(s, chosen, seen.lookups);
    const chosenKeys = new Set(chosen.map(denialKey));
    const ownKeys = new Set(own.map(denialKey));
    // Tight, a missing folder searched under many names, or the folder a server maps requests onto (a
    // static middleware's lookups: missing-folder.ts, request-folder.ts), is a candidate at once, as
    // the folder: should the fold fail without it, it is the one thing put back, rather than an enforce
    // run to see its first lookup denied.
    const searches = s.tight ? new MissingFolderSearches(seen.lookups, searchRoot(s.opts), s.opts.fs) : undefined;
    const searchKeys = new Set(seen.lookups.filter((d) => s.tight && (searches?.find(d, 'fs.read') || requestFolderOf(d, s.opts))).map(denialKey));
    const taken = (d: Denial) => fatal.has(denialKey(d)) || ownKeys.has(denialKey(d)) || searchKeys.has(denialKey(d));
    const picked = [...chosen, ...seen.lookups.filter((d) => taken(d) && !chosenKeys.has(denialKey(d)))];
    const vetted = s.vet(picked, true);
    const candidates = vetted.keep;
    await yieldToEventLoop();
    // A lookup of a missing path shows no need; nor, in an observe run, a denial the app survived; nor
    // a read inside a try/catch that the run allowed, so the catch never ran: in a run that ran to the
    // end, or a read the run let through (under the observe run's wide grant, 'loaded'; any check an
    // audit run's channels published, which audit mode allows), which cannot have caused whatever
    // stopped the run later (24's audit mode refusing an addon).
    // (Unless the run's failure hid it: a loader's or a Worker's denial is its cause, fallback.ts; nor the one denial of a failed run.)
    const cause = hiddenCauses(result);
    const sole = strategy.survivedIsSoft ? soleCause(runSucceeded(result), candidates) : undefined;
    const ranToEnd = runSucceeded(result);
    const letThrough = (d: Denial): boolean => d.source === 'loaded' || (strategy.phase === 'audit' && d.source === 'channel');
    const guarded = (d: Denial): boolean => (ranToEnd || letThrough(d)) && isGuardedRead(d, s.opts.fs);
    // (Nor the contents of a file of the project's that the app read: it would run without what the file says.)
    const content = (d: Denial) => readsProjectContent(d, s.opts.fs, s.opts.generalise?.root);
    for (const d of candidates)
      if (
        d !== sole &&
        !fatal.has(denialKey(d)) &&
        (isMissingLookup(d) || isHasProbe(d) || (((strategy.survivedIsSoft && isSurvived(d) && !cause(d)) || guarded(d)) && !content(d)))
      )
        s.soft.mark(d);
    await applyDenials(s, candidates, vetted.restated, result, 'prime');
    s.observed.push(...seen.observed.filter((d) => !fatal.has(denialKey(d))));
    s.lookups.push(...seen.lookups.filter((d) => !taken(d)));
    // The run's evidence is complete when it ran to the end (nothing it did was cut short).
    complete = runSucceeded(result);
    if (addonReadUnplanned(result.denials, s.opts.caps)) s.primingGap = true;
    if (result.outcome === 'spawn-error') return s.done('app-failed', result.error ?? 'the app could not be started');
    s.emit(strategy.doneEvent?.(result, s.runs, candidates) ?? { type: 'prime-done', strategy: strategy.name, run: s.runs, candidates: candidates.length });
    const learnedMore = s.grants.length !== before.size || s.grants.some((g) => !before.has(grantKey(g)));
    if (!strategy.again(result, learnedMore)) break;
  }
  return { complete };
}

/** The lookups of missing paths under a folder the app writes: granted already, or denied a write in this run. */
function ownStateLookups(s: LearnState, chosen: readonly Denial[], lookups: readonly Denial[]): Denial[] {
  const own = ownState(s.grants);
  const written = chosen.filter((d) => d.permission === 'FileSystemWrite' && d.resource !== '').map(resourcePath);
  return lookups.filter((d) => {
    if (d.permission !== 'FileSystemRead' || d.resource === '') return false;
    const p = resourcePath(d);
    return own({ scope: 'fs.read', path: p, kind: 'file', denials: [], notes: [] }) || written.some((w) => isSameOrUnder(p, w));
  });
}
