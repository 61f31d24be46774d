// One run of the app with exactly a profile's flags and nothing else (no recorder): does a profile that
// was not learned in this run (a committed one, a merged one) still start the app here?
import {
  DEFAULTS,
  describeOutcome,
  packageRoot,
  packageScript,
  renderProfile,
  runAppCleanly,
  runSucceeded,
  type Capabilities,
  type Profile,
  type RunResult,
} from '@permlearn/core';
import type { AppPlan } from './plan.js';
import { findProjectRoot } from '@permlearn/core';
import { breadthHere } from './profile-io.js';

export interface VerifyOutcome {
  ok: boolean;
  /** What happened, in a few words, when it failed. */
  reason?: string;
  result: RunResult;
  flags: string[];
}

/**
 * Run `profile`, rendered for `caps` (the Node at `node`) and for the plan's cwd, once: the plan says how
 * to start the app (entry or command, readiness, exercise commands, time limits).
 */
export async function verifyProfile(profile: Profile, plan: AppPlan, node: string, caps: Capabilities): Promise<VerifyOutcome> {
  const rendered = renderProfile(profile, {
    format: 'args',
    target: caps,
    cwd: plan.cwd,
    root: findProjectRoot(plan.cwd),
    breadth: breadthHere(plan.acceptBroad),
  });
  const command = plan.command ? (packageScript(plan.command, packageRoot(plan.cwd) ?? plan.cwd) ?? plan.command) : undefined;
  const entry = plan.entry ?? (command ? '' : rendered.entry);
  // Like a learning run: the user's environment, and whatever the app writes put back afterwards.
  const { result } = await runAppCleanly(
    {
      node,
      entry,
      args: plan.entry !== undefined || command ? plan.args : profile.args,
      cwd: plan.cwd,
      readiness: plan.readiness,
      maxRunMs: plan.maxRunMs,
      graceMs: plan.graceMs,
      settleMs: DEFAULTS.settleMs,
      ...(plan.exercise.length ? { exercise: plan.exercise } : {}),
      ...(command ? { command } : {}),
    },
    { flags: rendered.flags },
    { root: packageRoot(plan.cwd) ?? plan.cwd },
  );
  const ok = runSucceeded(result);
  return { ok, result, flags: rendered.flags, ...(ok ? {} : { reason: describeOutcome(result) }) };
}
