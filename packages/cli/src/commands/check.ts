// `permlearn check`: learn the app again, compare with the committed profile (core's compareProfiles),
// run the committed profile once when nothing new was seen, and say so for people, JSON, the GitHub job
// summary and GitHub annotations. --suggest writes the fresh profile; --write replaces the committed one.
import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { PermlearnError, checkOutputPath, compareProfiles, relocateProfile, renderProfile, writeFileAtomic, type FoundConfig, type Profile } from '@permlearn/core';
import type { CheckArgs } from '../shared/options.js';
import { EXIT, exitCodeOf, exitCodeOfError } from '../exit-codes.js';
import { readProfileWithText } from '../shared/profile-io.js';
import { Reporter, colorEnabled } from '../shared/report.js';
import { breadthHere, capabilitiesOfProfile, findProjectRoot, refuseTooBroad } from './render.js';
import { assertDistinctOutputs, configsFor, defaultConcurrency, learnPlan, mapLimit, planApp, shortPath, type AppPlan } from '../shared/plan.js';
import { verifyProfile } from '../shared/verify-run.js';
import { checkAnnotations, checkJson, checkMarkdown, checkText, type CheckOutcome } from './check-report.js';
import { textTable } from '../shared/table.js';
import { checkRecords } from './record.js';

/** The committed profile and its text, or a usage error saying how to make one (a ProfileError when it is unusable). */
function readCommitted(file: string): { profile: Profile; text: string } {
  if (!existsSync(file)) {
    throw new PermlearnError('usage', `no committed profile at ${shortPath(file)}: learn one first (permlearn --format json --out ${shortPath(file)}), or name it with --profile`);
  }
  return readProfileWithText(file);
}

/** The app the committed profile was learned from, when neither the command line nor a config says. */
function fillFromProfile(plan: AppPlan, committed: Profile): AppPlan {
  const out = { ...plan };
  if (out.entry === undefined && out.command === undefined) {
    if (committed.command) out.command = committed.command;
    else out.entry = relocateProfile(committed, { cwd: plan.cwd, root: findProjectRoot(plan.cwd) }).entry;
    out.args = committed.args;
  }
  // Compare like with like: the policy the committed profile was learned with.
  if (out.granularity === undefined && committed.granularity !== undefined) out.granularity = committed.granularity;
  return out;
}

function profileJson(profile: Profile, accept: readonly string[]): string {
  return renderProfile(profile, { format: 'json', target: capabilitiesOfProfile(profile), root: findProjectRoot(profile.cwd), breadth: breadthHere(accept) }).text;
}

/** Check one app. Never throws for what the app does; usage errors (no profile, bad config) propagate. */
async function checkOne(base: AppPlan, args: CheckArgs, report: Reporter): Promise<CheckOutcome> {
  const file = args.profile !== undefined ? path.resolve(args.profile) : base.profile;
  const { profile: committed, text: committedText } = readCommitted(file);
  // Before learning: the files this check would write can be written (--write replaces only the profile it read).
  if (args.suggest !== undefined) checkOutputPath(args.suggest, { force: args.force });
  if (args.write) checkOutputPath(file, { force: args.force, replacing: committedText });
  const plan = fillFromProfile(base, committed);
  // A committed grant beyond the breadth rule (unless accepted) fails the check, --strict or not, before
  // anything is learned (exit 8).
  refuseTooBroad(committed, shortPath(file), plan.acceptBroad, plan.cwd);
  const outcome: CheckOutcome = { profile: file, name: plan.name, status: 'ok', exitCode: EXIT.ok, strict: args.strict, written: false };
  const what = plan.entry ? shortPath(plan.entry) : plan.command!.join(' ');
  const { profile: fresh, result, caps } = await learnPlan(plan, { onStart: (c) => report.start(what, c), onEvent: (e) => report.event(e) });
  outcome.runs = fresh.runs;
  outcome.warnings = fresh.warnings;
  if (!fresh.verified) {
    report.summary(fresh);
    report.failureTail(result.last?.stderrTail ?? '', result.last);
    return { ...outcome, status: fresh.status, exitCode: exitCodeOf(result.status), reason: fresh.reason ?? fresh.status };
  }
  const comparison = compareProfiles(committed, fresh, { root: findProjectRoot(fresh.cwd) });
  outcome.comparison = comparison;
  if (comparison.added.length > 0) {
    outcome.status = 'new-needs';
    outcome.exitCode = EXIT.checkFailed;
  } else {
    // Nothing new was seen: the committed profile must still start the app by itself.
    const verified = await verifyProfile(committed, plan, plan.node ?? process.execPath, caps);
    outcome.committedVerified = verified.ok;
    if (!verified.ok) {
      outcome.status = 'committed-failed';
      outcome.exitCode = EXIT.verifyFailed;
      outcome.reason = verified.reason ?? 'it failed';
      report.failureTail(verified.result.stderrTail);
    } else if (args.strict && comparison.unused.length > 0) {
      outcome.status = 'unused';
      outcome.exitCode = EXIT.checkFailed;
    }
  }
  const differs = comparison.added.length > 0 || comparison.unused.length > 0 || outcome.status !== 'ok';
  if (args.suggest !== undefined) {
    outcome.suggested = path.resolve(args.suggest);
    writeFileAtomic(outcome.suggested, profileJson(fresh, plan.acceptBroad), { force: args.force });
  }
  if (args.write && differs) {
    writeFileAtomic(file, profileJson(fresh, plan.acceptBroad), { force: args.force, replacing: committedText });
    outcome.written = true;
    outcome.exitCode = EXIT.ok; // the committed profile is now the fresh, verified one
  }
  return outcome;
}

/** Where results go besides stderr: JSON on stdout, the GitHub job summary, GitHub annotations. */
function publish(outcomes: CheckOutcome[], args: CheckArgs, env: NodeJS.ProcessEnv, report: Reporter, color: boolean): void {
  if (!args.quiet) for (const o of outcomes) process.stderr.write(checkText(o, color));
  if (args.json) process.stdout.write(`${JSON.stringify(outcomes.length === 1 && !args.workspace ? checkJson(outcomes[0]!) : outcomes.map(checkJson), null, 2)}\n`);
  if (env.GITHUB_STEP_SUMMARY) {
    try {
      appendFileSync(env.GITHUB_STEP_SUMMARY, outcomes.map((o) => checkMarkdown(o)).join(''));
    } catch (err) {
      report.warning(`could not append to GITHUB_STEP_SUMMARY (${env.GITHUB_STEP_SUMMARY}): ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  // The runner reads workflow commands from the step's output, stderr included; stdout stays for --format json.
  if (env.GITHUB_ACTIONS === 'true') {
    const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
    for (const o of outcomes) for (const line of checkAnnotations(o, workspace)) process.stderr.write(`${line}\n`);
  }
}

export async function checkCommand(args: CheckArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const color = colorEnabled(process.stderr, env);
  const report = new Reporter({ stream: process.stderr, color, quiet: args.quiet });
  const found: FoundConfig[] = await configsFor(args.configs, args.workspace);
  if (args.records) {
    if (args.workspace || found.length > 1) throw new PermlearnError('usage', '--records checks one profile: not --workspace or several configs');
    const file = args.profile !== undefined ? path.resolve(args.profile) : planApp(found[0], args.app).profile;
    readCommitted(file);
    return checkRecords(args, file);
  }
  if (!args.workspace && found.length <= 1) {
    const outcome = await checkOne(planApp(found[0], args.app), args, report);
    publish([outcome], args, env, report, color);
    return outcome.exitCode;
  }
  for (const [flag, given] of [
    ['--cwd', args.app.cwd],
    ['--root', args.app.root],
  ] as const) {
    if (given !== undefined) throw new PermlearnError('usage', `${flag} names one folder: it goes with one app, not --workspace or several configs`);
  }
  const plans = found.map((f) => planApp(f, args.app));
  if (args.write) assertDistinctOutputs(plans.map((p) => ({ file: p.profile, app: p.configFile ? shortPath(p.configFile) : p.name })));
  const width = Math.max(...plans.map((p) => p.name.length));
  const outcomes = await mapLimit(plans, args.concurrency ?? defaultConcurrency(), async (plan): Promise<CheckOutcome> => {
    const prefixed = new Reporter({ stream: process.stderr, color, quiet: args.quiet, prefix: `[${plan.name.padEnd(width)}] ` });
    try {
      return await checkOne(plan, args, prefixed);
    } catch (err) {
      // One app failing never stops the others.
      const known = err instanceof PermlearnError && err.kind !== 'internal';
      const reason = known ? (err as Error).message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
      return { profile: plan.profile, name: plan.name, status: 'error', exitCode: exitCodeOfError(err), reason, strict: args.strict, written: false };
    }
  });
  publish(outcomes, args, env, report, color);
  const table = textTable(
    ['app', 'status', 'new', 'unused', 'profile'],
    outcomes.map((o) => [o.name, o.status, String(o.comparison?.added.length ?? '-'), String(o.comparison?.unused.length ?? '-'), shortPath(o.profile)]),
    new Set([2, 3]),
  );
  report.note(`\n${table}`);
  return outcomes.find((o) => o.exitCode !== EXIT.ok)?.exitCode ?? EXIT.ok;
}
