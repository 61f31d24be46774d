// The default command, `permlearn [options] [<entry>]`: its parser, and the handler it shares with `permlearn run`:
// learning one app, or several configured apps at once (`--workspace`, several configs): one profile each and a table.
import { lstatSync } from 'node:fs';
import {
  PermlearnError,
  timingPhase,
  assertFormatFor,
  checkOutputPath,
  formatRefusesSomeNode,
  probeNode,
  writeFileAtomic,
  type FoundConfig,
  type LearnStatus,
} from '@permlearn/core';
import yargs, { type Argv } from 'yargs';
import {
  appOptions,
  appOverrides,
  base,
  concurrencyOf,
  isConfigFile,
  listOf,
  manyOptions,
  outputOptions,
  outputOverrides,
  parseWith,
  type AppOverrides,
  type OutputOverrides,
  type Parsed,
} from '../shared/options.js';
import type { Command } from '../shared/command.js';
import { EXIT, describeError, exitCodeOf } from '../exit-codes.js';
import { Reporter, colorEnabled } from '../shared/report.js';
import { emitOutput, profileJson, refuseUnverified, renderForOutput } from '../shared/profile-io.js';
import { assertDistinctOutputs, assertOneAppFlags, defaultConcurrency, mapLimit } from '../shared/many-apps.js';
import { shortPath } from '../shared/paths.js';
import { configsFor, learnPlan, planApp, type AppPlan } from '../shared/plan.js';
import { textTable } from '../shared/table.js';
import { loadRecords, recordedApp } from './record.js';

export interface LearnArgs {
  app: AppOverrides;
  output: OutputOverrides;
  /** Config files named on the command line (`--config`, or positional `*.json`). */
  configs: string[];
  /** Learn every package under the cwd that has a permlearn config. */
  workspace: boolean;
  concurrency?: number;
  force: boolean;
  quiet: boolean;
  /** `permlearn run`: the app is a command. */
  run: boolean;
  /** `--records`: complain-mode record files or folders to build the profile from. */
  records?: string[];
}

const LEARN_USAGE = `$0 [options] [<entry> [-- <app args...>]]
$0 [options] --config <a.json> [--config <b.json> ...] | --workspace [--concurrency N]
$0 run [options] -- <command...>
$0 check [--profile permlearn.json] [--strict] [--suggest FILE] [--write] [--format json]
$0 merge <a.json> <b.json> ... [--entry <file>] [--out FILE]
$0 render <profile.json> [--format X] [--node-version V | --node <binary>] [--relative]
$0 explain <profile.json>
$0 record [--out DIR] [--profile permlearn.json] -- <command...>

Learn the Node.js permission flags an app needs by running it under --permission. With a permlearn.config.json (or a "permlearn" field in package.json) in the current folder, no argument is needed. Each command has its own --help (permlearn check --help).`;

const LEARN_EXAMPLES = [
  ['$0 app.js', 'learn what app.js needs to run to the end; the flags go to stdout, the report to stderr'],
  [
    "$0 --ready-port 3000 --exercise 'curl -sf http://127.0.0.1:3000/' server.js -- 3000",
    'a server: ready when port 3000 answers, then exercised with curl in every run',
  ],
  ['node $($0 -q app.js) app.js', 'run the app with what was learned (use eval when a path holds a space or a *)'],
  ['$0 --format json --out permlearn.json', 'learn the app a permlearn.config.json here describes, and save the profile'],
  ['$0 run --ready-port 3000 -- npm start', 'learn every Node process a start command runs'],
  ['$0 --workspace', 'every package under this folder with a permlearn config, in parallel'],
] as const;

/** How `permlearn` (or `permlearn run`, with its own usage and examples) reads its options. */
export function learnParser(argv: string[], run?: { usage: string; examples: readonly (readonly [string, string])[] }): Argv<unknown> {
  const parser = manyOptions(
    outputOptions(appOptions(base(yargs(argv), run ? 'permlearn run' : 'permlearn', run ? run.usage : LEARN_USAGE, run ? run.examples : LEARN_EXAMPLES))),
  );
  return parser.option('records', {
    type: 'string',
    describe:
      'build the profile from complain-mode records (files, or folders of record-*.ndjson from permlearn record); the entry (default: the one the records ran) is then run to verify it; repeatable',
  }) as Argv<unknown>;
}

/**
 * `permlearn [options] <entry>`, or `permlearn run [options] -- <command...>` when `run` is given. `parser`: the
 * one main.ts already built from the same argv to find the command's word (yargs takes a while to build one).
 */
export async function parseLearnArgs(
  argv: string[],
  run?: { usage: string; examples: readonly (readonly [string, string])[] },
  parser: Argv<unknown> = learnParser(argv, run),
): Promise<Parsed<'learn', LearnArgs>> {
  const { a, help } = await parseWith(parser, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const positional = a._.map(String);
  const dashdash = (a['--'] ?? []).map(String);
  const configs = listOf(a.config);
  const app = appOverrides(a);
  if (run) {
    const command = [...positional, ...dashdash];
    if (command.length) app.command = command;
  } else if (positional.length > 0 && positional.every(isConfigFile) && dashdash.length === 0) {
    configs.push(...positional);
  } else if (positional.length > 0) {
    const [entry, ...rest] = positional;
    app.entry = entry!;
    app.appArgs = [...rest, ...dashdash];
  } else if (dashdash.length > 0) {
    throw new PermlearnError('usage', `app arguments after -- need an <entry> before them (for a command, use: permlearn run -- ${dashdash.join(' ')})`);
  }
  const concurrency = concurrencyOf(a);
  const args: LearnArgs = {
    app,
    output: outputOverrides(a),
    configs,
    workspace: Boolean(a.workspace),
    force: Boolean(a.force),
    quiet: Boolean(a.quiet),
    run: run !== undefined,
  };
  if (concurrency !== undefined) args.concurrency = concurrency;
  if (a.records !== undefined) args.records = listOf(a.records);
  if (args.workspace && (app.entry || app.command))
    throw new PermlearnError('usage', '--workspace learns every configured package; it takes no entry or command');
  return { kind: 'learn', args };
}

/** Learn one app (or several, from configs), print or write what was learned; the exit code says how it went. */
export async function runLearn(args: LearnArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const found = await configsFor(args.configs, args.workspace);
  if (args.workspace || found.length > 1) return learnMany(found, args, env);
  const plan = planApp(found[0], args.app, args.output);
  if (args.records) {
    if (args.run) throw new PermlearnError('usage', '--records builds a profile for an entry: use permlearn --records DIR [<entry>]');
    plan.records = loadRecords(args.records);
    // The app the records ran, unless the command line or a config names one.
    const ran = recordedApp(plan.records);
    if (plan.entry === undefined && plan.command === undefined && ran) {
      plan.entry = ran.entry;
      if (args.app.cwd === undefined && !found[0]) plan.cwd = ran.cwd;
    }
  }
  if (plan.entry === undefined && plan.command === undefined) {
    throw new PermlearnError(
      'usage',
      args.run
        ? 'missing <command>: permlearn run -- <command...> (or a config with "command")'
        : found[0]
          ? `${shortPath(found[0].file)} has neither "entry" nor "command"`
          : 'missing <entry>: the app file to learn (try --help), or a permlearn.config.json in this folder',
    );
  }
  const report = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: args.quiet });
  // Before learning, not after: a full learn is not wasted on an output that cannot be written.
  if (plan.out) checkOutputPath(plan.out, { force: args.force });
  if (formatRefusesSomeNode(plan.format)) {
    // Refuse before learning, not after: only some Node versions honour a config file's permissions or have drop().
    assertFormatFor(plan.format, await probeNode(plan.node ?? process.execPath));
  }
  const what = plan.entry ?? plan.command!.join(' ');
  const { profile, result } = await learnPlan(plan, { onStart: (caps) => report.start(what, caps), onEvent: (e) => report.event(e) });
  timingPhase('learned');
  report.summary(profile);
  if (result.status === 'app-failed' || result.status === 'verify-failed' || result.status === 'no-progress') {
    report.failureTail(result.last?.stderrTail ?? '', result.last);
  }
  // A profile that did not verify is printed only as JSON (where `verified` says so), never as flags.
  const refusal = refuseUnverified(profile, plan.format, 'the learned profile');
  if (refusal) report.note(`${plan.out ? `nothing written to ${shortPath(plan.out)}` : 'nothing printed'}: ${refusal.message}`);
  else {
    const rendered = renderForOutput(profile, plan);
    report.findings(rendered, { all: false });
    emitOutput(rendered.text, plan.out, args.force);
  }
  timingPhase('reported');
  return exitCodeOf(result.status);
}

interface Row {
  plan: AppPlan;
  /** How learning went, or why this app was not learned. */
  status: LearnStatus | 'error' | 'skipped';
  code: number;
  runs?: number;
  grants?: number;
  seconds: number;
  written?: string;
  reason?: string;
}

async function learnMany(found: FoundConfig[], args: LearnArgs, env: NodeJS.ProcessEnv): Promise<number> {
  assertOneAppFlags([
    ['--cwd', args.app.cwd],
    ['--root', args.app.root],
    ['--out', args.output.out],
  ]);
  const plans = found.map((f) => planApp(f, args.app, args.output));
  const who = (p: AppPlan) => (p.configFile ? shortPath(p.configFile) : p.name);
  assertDistinctOutputs(plans.flatMap((p) => [{ file: p.profile, app: who(p) }, ...(p.out && p.format !== 'json' ? [{ file: p.out, app: who(p) }] : [])]));
  const color = colorEnabled(process.stderr, env);
  const width = Math.max(...plans.map((p) => p.name.length));
  const limit = args.concurrency ?? defaultConcurrency();
  const summary = new Reporter({ stream: process.stderr, color, quiet: args.quiet });
  summary.note(`permlearn learning ${plans.length} app${plans.length === 1 ? '' : 's'}, ${Math.min(limit, plans.length)} at a time`);

  const rows = await mapLimit(plans, limit, async (plan): Promise<Row> => {
    const started = Date.now();
    const report = new Reporter({ stream: process.stderr, color, quiet: args.quiet, prefix: `[${plan.name.padEnd(width)}] ` });
    const row = (r: Omit<Row, 'plan' | 'seconds'>): Row => ({ plan, seconds: (Date.now() - started) / 1000, ...r });
    try {
      if (plan.entry === undefined && plan.command === undefined) {
        return row({ status: 'error', code: EXIT.usage, reason: `${shortPath(plan.configFile ?? plan.cwd)} has neither "entry" nor "command"` });
      }
      if (!args.force && existsAsFile(plan.profile)) {
        return row({ status: 'skipped', code: EXIT.usage, reason: `${shortPath(plan.profile)} exists; pass --force to learn it again` });
      }
      // Before learning: whatever would stop the write (a link or folder in the way, a folder that takes no file).
      checkOutputPath(plan.profile, { force: args.force });
      if (plan.out && plan.format !== 'json') checkOutputPath(plan.out, { force: args.force });
      const what = plan.entry ? shortPath(plan.entry) : plan.command!.join(' ');
      const { profile, result } = await learnPlan(plan, { onStart: (caps) => report.start(what, caps), onEvent: (e) => report.event(e) });
      // Kept if it appeared meanwhile (another process, or a file made while learning), unless --force.
      writeFileAtomic(plan.profile, profileJson(profile, plan.acceptBroad), { force: args.force });
      // The profile file always (it says whether it verified); --out only for a profile that verified.
      if (plan.out && plan.format !== 'json' && !refuseUnverified(profile, plan.format, plan.name)) {
        writeFileAtomic(plan.out, renderForOutput(profile, plan).text, { force: args.force });
      }
      for (const w of profile.warnings) report.warning(w);
      if (!profile.verified) report.failureTail(result.last?.stderrTail ?? '', result.last);
      return row({
        status: profile.status,
        code: exitCodeOf(result.status),
        runs: profile.runs,
        grants: profile.grants.length,
        written: plan.profile,
        ...(profile.reason ? { reason: profile.reason } : {}),
      });
    } catch (err) {
      // One app failing never stops the others.
      const { code, message } = describeError(err);
      return row({ status: 'error', code, reason: message });
    }
  });

  const table = textTable(
    ['app', 'status', 'runs', 'grants', 'time', 'profile'],
    rows.map((r) => [
      r.plan.name,
      r.status,
      r.runs === undefined ? '-' : String(r.runs),
      r.grants === undefined ? '-' : String(r.grants),
      `${r.seconds.toFixed(1)} s`,
      r.written ? shortPath(r.written) : '-',
    ]),
    new Set([2, 3, 4]),
  );
  summary.note(`\n${table}`);
  for (const r of rows) if (r.reason) summary.error(`${r.plan.name}: ${r.reason}`);
  const failed = rows.filter((r) => r.code !== EXIT.ok);
  summary.note(failed.length === 0 ? `✔ ${rows.length} of ${rows.length} verified` : `✖ ${failed.length} of ${rows.length} not verified`);
  return failed[0]?.code ?? EXIT.ok;
}

/** A regular file is there (anything else at that name is for checkOutputPath to refuse). */
function existsAsFile(file: string): boolean {
  try {
    return lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/** The default command: `permlearn [options] [<entry> [-- <app args...>]]`. */
export const command: Command<LearnArgs> = {
  name: '',
  describe: 'learn the flags an app needs by running it',
  starts: 'app',
  parse: (argv) => parseLearnArgs(argv),
  run: (args, ctx) => runLearn(args, ctx.env),
};
