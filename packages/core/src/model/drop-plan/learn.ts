// Learning a drop plan: one timing run in audit mode says which grants only start-up uses, then enforce
// runs with the drops applied at readiness verify it. Running the app is injected (the learn loop's RunApp).
import type { Capabilities } from '../node-versions.js';
import { isSpurious } from '../denials.js';
import type { Grant } from '../grants.js';
import type { LearnEvent, RunApp, RunResult } from '../learn/types.js';
import { permissionLabel } from '../types.js';
import { describeOutcome, exerciseFailed, runSucceeded } from '../learn/outcome.js';
import { dropsBrokenBy, planDrops, type DropPlan } from './plan.js';

export interface DropPlanOptions {
  caps: Capabilities;
  /** Runs the app: `drop-timing` under --permission-audit alone, `drop-verify` with the grants and `drops` applied at readiness. */
  runApp: RunApp;
  /** The run waits for a readiness signal (stdout, port, url or a fixed time): the moment start-up is over. */
  hasReadiness: boolean;
  /** The file the recorder's drop() call itself touches: its denial is not the app's. */
  dropFile: string;
  /** Runs so far: the drop plan's runs are numbered after them. */
  firstRun: number;
  grants: Grant[];
  verified: boolean;
  exercised: boolean;
  onEvent?: ((event: LearnEvent) => void) | undefined;
}

/** The most verification runs a drop plan gets: each failure takes the drops it implicates out. */
export const DROP_PLAN_ATTEMPTS = 3;

/**
 * One audit run (nothing denied, every check reported with its time) says which grants are used after
 * readiness; the others are planned as drops. Then enforce runs apply the drops at readiness through the
 * recorder, run the exercise commands, and move any drop that caused a denial back to the kept grants.
 */
export async function learnDropPlan(o: DropPlanOptions): Promise<DropPlan & { runs: number }> {
  const { caps } = o;
  const plan: DropPlan & { runs: number } = { drops: [], keep: [], verified: false, exercised: o.exercised, notes: [], runs: 0 };
  if (!caps.hasDrop) {
    plan.notes.push(`Node ${caps.version.raw} has no process.permission.drop() (it arrived in Node 24): no drop plan`);
    return plan;
  }
  if (!o.verified) {
    plan.notes.push('the profile did not verify, so no drop plan was made');
    return plan;
  }
  if (!o.hasReadiness) {
    plan.notes.push('a drop plan needs a moment when start-up is over: pass --ready-stdout, --ready-port, --ready-url or --timeout');
    return plan;
  }
  const emit = o.onEvent ?? (() => {});
  // The runs are announced as the audit and verify runs they are.
  const timed = async (phase: 'drop-timing' | 'drop-verify', drops?: DropPlan['drops']): Promise<RunResult> => {
    const run = o.firstRun + ++plan.runs;
    const shown = phase === 'drop-timing' ? 'audit' : 'verify';
    emit({ type: 'run-start', run, phase: shown, grants: o.grants.length });
    const calls = drops?.map(({ scope, reference }) => (reference === undefined ? { scope } : { scope, reference }));
    const r = await o.runApp({ run, phase, grants: o.grants, ...(calls ? { drops: calls } : {}) });
    emit({ type: 'run-end', run, phase: shown, result: r });
    return r;
  };
  const timing = await timed('drop-timing');
  if (timing.outcome !== 'ready' || timing.readyTime === undefined || exerciseFailed(timing)) {
    plan.notes.push(
      `the timing run (audit mode) ${timing.outcome === 'ready' ? 'had a failing exercise command' : describeOutcome(timing)}, so no drop plan was made`,
    );
    return plan;
  }
  const { drops, keep } = planDrops(o.grants, timing.denials, timing.readyTime);
  plan.drops = drops;
  plan.keep = keep;
  for (let attempt = 0; attempt < DROP_PLAN_ATTEMPTS && plan.drops.length > 0; attempt++) {
    const r = await timed('drop-verify', plan.drops);
    // Denials after the drops were in place (drop() itself publishes a check for what it drops, and
    // the recorder's drop of its own file is not the app's).
    const after = r.dropped ? r.denials.filter((d) => (d.time ?? 0) > r.dropped!.time && d.resource !== o.dropFile && !isSpurious(d)) : [];
    if (r.dropped && !r.dropped.error && runSucceeded(r) && after.length === 0) {
      plan.verified = true;
      return plan;
    }
    const broken = r.dropped?.error ? [] : dropsBrokenBy(plan.drops, after);
    if (broken.length === 0) {
      const first = after[0];
      const why = !r.dropped
        ? `the recorder never applied the drops (the app ${describeOutcome(r)})`
        : r.dropped.error
          ? `applying the drops failed in the app: ${r.dropped.error}`
          : `the app ${runSucceeded(r) ? `was denied ${first ? `${permissionLabel(first)} ${first.resource}` : ''}` : describeOutcome(r)} after the drops, and no single drop explains it`;
      plan.notes.push(`${why}; the plan is not verified`);
      return plan;
    }
    for (const b of broken) plan.keep.push({ flag: b.flag, reason: 'broke-when-dropped' });
    plan.drops = plan.drops.filter((d) => !broken.includes(d));
  }
  if (plan.drops.length === 0)
    plan.verified = true; // nothing left to drop: trivially safe
  else plan.notes.push(`still failing after ${DROP_PLAN_ATTEMPTS} verification runs; the plan is not verified`);
  return plan;
}
