// `permlearn check`: learn the app again, compare with the committed profile (core's compareProfiles),
// run the committed profile once when nothing new was seen, and say so for people, JSON, the GitHub job
// summary and GitHub annotations. --suggest writes the fresh profile; --write replaces the committed one.
import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { PermlearnError, checkOutputPath, compareProfiles, relocateProfile, writeFileAtomic, type FoundConfig, type Profile } from '@permlearn/core';
import {
  GROUPS,
  appOptions,
  appOverrides,
  base,
  concurrencyOf,
  isConfigFile,
  listOf,
  manyOptions,
  parseWith,
  type AppOverrides,
  type Parsed,
} from '../shared/options.js';
import yargs, { type Argv } from 'yargs';
import type { Command } from '../shared/command.js';
import { EXIT, describeError, exitCodeOf } from '../exit-codes.js';
import { profileJson, readProfileWithText, refuseTooBroad } from '../shared/profile-io.js';
import { Reporter, colorEnabled } from '../shared/report.js';
import { assertDistinctOutputs, assertOneAppFlags, defaultConcurrency, mapLimit } from '../shared/many-apps.js';
import { findProjectRoot, shortPath } from '../shared/paths.js';
import { configsFor, learnPlan, planApp, type AppPlan } from '../shared/plan.js';
import { verifyProfile } from '../shared/verify-run.js';
import { checkAnnotations, checkJson, checkMarkdown, checkText, type CheckOutcome } from './check-report.js';
import { textTable } from '../shared/table.js';
import { checkRecords } from './record.js';

export interface CheckArgs {
  app: AppOverrides;
  configs: string[];
  workspace: boolean;
  concurrency?: number;
  profile?: string;
  strict: boolean;
  suggest?: string;
  write: boolean;
  /** Let --suggest replace an existing file, and --write replace a profile that changed while checking. */
  force: boolean;
  json: boolean;
  quiet: boolean;
  /** `--records`: compare the committed profile with these recordings instead of learning again. */
  records?: string[];
}

/** `permlearn check …` (argv without the word `check`). */
export async function parseCheckArgs(argv: string[]): Promise<Parsed<'check', CheckArgs>> {
  const parser = manyOptions(
    appOptions(
      base(
        yargs(argv),
        'permlearn check',
        '$0 [options] [<entry> [-- <app args...>]]\n\nLearn the app again and compare with the committed profile: exit 0 when it still verifies and nothing new is needed, 7 when the app needs grants the profile lacks.',
        [
          ['$0', 'check the app a permlearn.config.json here describes against its permlearn.json'],
          ['$0 --suggest permlearn.suggested.json', 'in CI: also write the fresh profile, to keep as an artifact when the check fails'],
          ['$0 --write', 'accept what the app needs now: rewrite the committed profile'],
          ['$0 --workspace', 'check every configured package under this folder'],
        ],
      ),
    )
      .option('profile', { type: 'string', describe: 'the committed profile (default: the config\'s "profile", else permlearn.json)' })
      .option('strict', { type: 'boolean', default: false, describe: 'grants no longer used fail the check too' })
      .option('suggest', { type: 'string', describe: 'write the proposed profile (the fresh run) to this file' })
      .option('write', { type: 'boolean', default: false, describe: 'rewrite the committed profile with the proposed one when they differ' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'let --suggest overwrite an existing file (and --write a profile that changed while checking)',
      })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: the comparison as JSON on stdout' })
      .option('records', {
        type: 'string',
        describe: 'compare the committed profile with complain-mode records instead of running the app: exit 7 for needs it lacks; repeatable',
      })
      .group(['profile', 'strict', 'suggest', 'write', 'force', 'format', 'records'], GROUPS.command),
  );
  const { a, help } = await parseWith(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const app = appOverrides(a);
  const positional = a._.map(String);
  const configs = listOf(a.config);
  if (positional.length > 0 && positional.every(isConfigFile) && !(a['--'] ?? []).length) configs.push(...positional);
  else if (positional.length > 0) {
    app.entry = positional[0]!;
    app.appArgs = [...positional.slice(1), ...(a['--'] ?? []).map(String)];
  }
  const args: CheckArgs = {
    app,
    configs,
    workspace: Boolean(a.workspace),
    strict: Boolean(a.strict),
    write: Boolean(a.write),
    force: Boolean(a.force),
    json: a.format === 'json',
    quiet: Boolean(a.quiet),
  };
  const concurrency = concurrencyOf(a);
  if (concurrency !== undefined) args.concurrency = concurrency;
  if (a.profile !== undefined) args.profile = String(a.profile);
  if (a.suggest !== undefined) args.suggest = String(a.suggest);
  if (a.records !== undefined) args.records = listOf(a.records);
  if ((args.workspace || configs.length > 1) && (args.profile || args.suggest)) {
    throw new PermlearnError('usage', '--profile and --suggest name one file: they go with one app, not --workspace or several configs');
  }
  return { kind: 'check', args };
}

/** The committed profile and its text, or a usage error saying how to make one (a ProfileError when it is unusable). */
function readCommitted(file: string): { profile: Profile; text: string } {
  if (!existsSync(file)) {
    throw new PermlearnError(
      'usage',
      `no committed profile at ${shortPath(file)}: learn one first (permlearn --format json --out ${shortPath(file)}), or name it with --profile`,
    );
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
  if (fresh.status !== 'verified') {
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
  if (args.json)
    process.stdout.write(`${JSON.stringify(outcomes.length === 1 && !args.workspace ? checkJson(outcomes[0]!) : outcomes.map(checkJson), null, 2)}\n`);
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

/** Check one app or several against their committed profiles; the exit code is the first failure's. */
export async function runCheck(args: CheckArgs, env: NodeJS.ProcessEnv): Promise<number> {
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
  assertOneAppFlags(
    [
      ['--cwd', args.app.cwd],
      ['--root', args.app.root],
    ],
    'folder',
  );
  const plans = found.map((f) => planApp(f, args.app));
  if (args.write) assertDistinctOutputs(plans.map((p) => ({ file: p.profile, app: p.configFile ? shortPath(p.configFile) : p.name })));
  const width = Math.max(...plans.map((p) => p.name.length));
  const outcomes = await mapLimit(plans, args.concurrency ?? defaultConcurrency(), async (plan): Promise<CheckOutcome> => {
    const prefixed = new Reporter({ stream: process.stderr, color, quiet: args.quiet, prefix: `[${plan.name.padEnd(width)}] ` });
    try {
      return await checkOne(plan, args, prefixed);
    } catch (err) {
      // One app failing never stops the others.
      const { code, message } = describeError(err);
      return { profile: plan.profile, name: plan.name, status: 'error', exitCode: code, reason: message, strict: args.strict, written: false };
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

export const command: Command<CheckArgs> = {
  name: 'check',
  describe: 'learn the app again and compare with the committed profile',
  starts: 'app',
  parse: parseCheckArgs,
  run: (args, ctx) => runCheck(args, ctx.env),
};
