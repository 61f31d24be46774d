// The one path by which a run's denials become grants, for the priming runs and the enforce loop alike.
import type { Denial } from '../types.js';
import { GrantSet, grantKey, type Grant } from '../grants.js';
import type { Refusal, RunResult } from './types.js';
import { absorb, insideRefused, planStep, promoteCreatedDirs } from './plan-step.js';
import { NamedEachRunIndex } from './named-each-run.js';
import { MissingFolderSearches, searchRoot } from './missing-folder.js';
import type { LearnState } from './state.js';
import { yieldToEventLoop } from '../yield.js';

/** Planning many denials yields to the event loop this often, so that a signal is answered at once. */
const YIELD_EVERY = 500;

export interface Applied {
  /** The grants changed (before created folders were promoted and fallback paths set aside). */
  changed: boolean;
  stuck: string[];
  childLost: string[];
  /** Refused in this run (the state keeps every refusal too). */
  refused: Refusal[];
}

/**
 * Plan each denial against the grants and apply the steps. `prime`: a priming run's candidates, where
 * one an earlier grant covers is evidence for that grant, one inside a refused grant gets nothing, and
 * what cannot be granted is left for the enforce runs to confirm. `enforce`: every outcome counts.
 */
export async function applyDenials(
  s: LearnState,
  denials: readonly Denial[],
  restated: Map<Denial, string>,
  result: RunResult,
  mode: 'prime' | 'enforce',
): Promise<Applied> {
  const { caps } = s.opts;
  const before = new Set(s.grants.map(grantKey));
  const next = new GrantSet(s.grants);
  // Only an earlier run's grant shows a name that changes from run to run.
  const named = new NamedEachRunIndex(s.grants);
  // This plan's lookups and the first runs' show a missing folder searched under many names.
  const searches = new MissingFolderSearches([...denials, ...s.lookups], searchRoot(s.opts), s.opts.fs);
  // A grant this plan made (a folder as `F/*`) takes the later denials it covers as its evidence.
  const madeNow = new Set<Grant>();
  const out: Applied = { changed: false, stuck: [], childLost: [], refused: [] };
  for (const [i, denial] of denials.entries()) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
    if (mode === 'prime' && (absorb(denial, next, caps) || insideRefused(denial, s.refused, caps))) continue;
    if (mode === 'enforce' && madeNow.size > 0 && absorb(denial, next, caps, madeNow)) continue;
    const step = planStep(denial, next, s.opts, s.runs, { named, searches });
    switch (step.type) {
      case 'ungrantable':
        if (mode === 'enforce' && !s.ungrantable.some((u) => u.code === step.info.code && u.reason === step.info.reason)) s.ungrantable.push(step.info);
        break;
      case 'stuck':
        out.stuck.push(step.reason);
        break;
      case 'child-lost':
        out.childLost.push(step.reason);
        break;
      case 'refused':
        out.refused.push(step.info);
        s.refuse(step.info);
        break;
      case 'add':
      case 'replace':
        s.noteStable(step.grant, denial, restated);
        madeNow.add(step.grant);
        if (step.type === 'replace') {
          next.replace(step.old, step.grant);
          if (step.event) s.emit(step.event);
        } else {
          next.add(step.grant);
        }
        s.emit({ type: 'granted', run: s.runs, grant: step.grant, denial });
        break;
    }
  }
  const grants = next.toArray();
  out.changed = grants.length !== before.size || grants.some((g) => !before.has(grantKey(g)));
  s.grants = s.setAsideFallback(promoteCreatedDirs(grants, s.opts.fs), before, result);
  return out;
}
