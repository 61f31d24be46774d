// `permlearn merge a.json b.json …`: one profile from several runs of the same app (core's mergeProfiles),
// run once to verify it when the command line or a config says how to start the app.
import { PermlearnError, checkOutputPath, describeSeen, exposureOf, mergeProfiles, probeNode, type MergedProfile } from '@permlearn/core';
import {
  GROUPS,
  appOptions,
  appOverrides,
  base,
  listOf,
  outputOptions,
  outputOverrides,
  parseWith,
  type AppOverrides,
  type OutputOverrides,
  type Parsed,
} from '../shared/options.js';
import yargs, { type Argv } from 'yargs';
import type { Command } from '../shared/command.js';
import { EXIT } from '../exit-codes.js';
import { emitOutput, readProfile, refuseTooBroad, refuseUnverified, renderForOutput } from '../shared/profile-io.js';
import { Reporter, colorEnabled } from '../shared/report.js';
import { findProjectRoot, shortPath } from '../shared/paths.js';
import { configsFor, planApp } from '../shared/plan.js';
import { verifyProfile } from '../shared/verify-run.js';

export interface MergeArgs {
  profiles: string[];
  app: AppOverrides;
  output: OutputOverrides;
  configs: string[];
  force: boolean;
  quiet: boolean;
}

/** `permlearn merge a.json b.json …` (argv without the word `merge`). */
export async function parseMergeArgs(argv: string[]): Promise<Parsed<'merge', MergeArgs>> {
  const parser = outputOptions(
    appOptions(
      base(
        yargs(argv),
        'permlearn merge',
        '$0 <a.json> <b.json> ... [--entry <file> [-- <app args...>]] [--out FILE]\n\nOne profile from several (--format json profiles of the same app): the union of their grants, each saying in how many runs it was seen. With --entry or a config, the union is run once to verify it.',
        [
          ['$0 serve.json batch.json --out permlearn.json', 'the union of two runs of the same app'],
          ['$0 serve.json batch.json --entry app.js -- serve', 'the union, run once with exactly its flags to verify it'],
        ],
      ),
    )
      .option('entry', { type: 'string', describe: 'run the merged profile with this entry to verify it (a config does the same)' })
      .group(['entry'], GROUPS.learn),
  );
  const { a, help } = await parseWith(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const profiles = a._.map(String);
  if (profiles.length === 0) throw new PermlearnError('usage', 'missing profiles: permlearn merge <a.json> <b.json> ... (profiles saved with --format json)');
  const app = appOverrides(a);
  if (a.entry !== undefined) app.entry = String(a.entry);
  const dashdash = (a['--'] ?? []).map(String);
  if (dashdash.length) app.appArgs = dashdash;
  const configs = listOf(a.config);
  if (configs.length > 1) throw new PermlearnError('usage', 'permlearn merge verifies one app: give one --config');
  return { kind: 'merge', args: { profiles, app, output: outputOverrides(a), configs, force: Boolean(a.force), quiet: Boolean(a.quiet) } };
}

/** Merge the profiles, verify the union when the app is named, and print or write it. */
export async function runMerge(args: MergeArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const report = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: args.quiet });
  const inputs = args.profiles.map((file) => ({ profile: readProfile(file), name: shortPath(file) }));
  const found = await configsFor(args.configs, false);
  const plan = planApp(found[0], args.app, { format: 'json', ...args.output });
  if (plan.out) checkOutputPath(plan.out, { force: args.force });
  for (const i of inputs) refuseTooBroad(i.profile, i.name, plan.acceptBroad);
  const first = inputs[0]!.profile;
  // Everything moves to the first profile's folder, or to the app's when the command line or a config names it.
  const cwd = args.app.cwd !== undefined || found[0] ? plan.cwd : first.cwd;
  const merged: MergedProfile = mergeProfiles(inputs, { layout: { cwd, root: findProjectRoot(cwd) }, exposure: exposureOf });
  report.note(`permlearn merged ${inputs.length} profiles: ${merged.grants.length} grants`);
  for (const g of merged.grants) report.note(`  ${g.flag}  ${describeSeen(g.seen)}`);

  // With an entry (or a config), run the union once with exactly its flags.
  const runnable = args.app.entry !== undefined || found[0] !== undefined;
  let code: number = merged.verified ? EXIT.ok : EXIT.verifyFailed;
  if (runnable && merged.verified) {
    const node = plan.node ?? process.execPath;
    const caps = await probeNode(node);
    const outcome = await verifyProfile(
      merged,
      { ...plan, ...(plan.entry === undefined && plan.command === undefined ? { entry: merged.entry } : {}) },
      node,
      caps,
    );
    merged.merged.verified = outcome.ok;
    merged.runs += 1;
    if (outcome.ok) report.note(`✔ the merged profile verified (${outcome.result.readyBy ? `ready by ${outcome.result.readyBy}` : 'exit 0'})`);
    else {
      merged.verified = false;
      merged.status = 'verify-failed';
      merged.reason = `the merged profile did not start the app: ${outcome.reason ?? 'it failed'}`;
      report.error(merged.reason);
      report.failureTail(outcome.result.stderrTail);
      code = EXIT.verifyFailed;
    }
  } else if (!merged.verified) {
    report.error(merged.reason ?? 'an input profile did not verify');
  } else {
    report.note('not run as a whole: give --entry (or a config) to verify the merged profile');
  }
  for (const w of merged.warnings) report.warning(w);
  const refusal = refuseUnverified(merged, plan.format, 'the merged profile');
  if (refusal) report.note(`${plan.out ? `nothing written to ${shortPath(plan.out)}` : 'nothing printed'}: ${refusal.message}`);
  else emitOutput(renderForOutput(merged, plan).text, plan.out, args.force);
  return code;
}

export const command: Command<MergeArgs> = {
  name: 'merge',
  describe: 'one profile from several runs of the same app',
  starts: 'app',
  parse: parseMergeArgs,
  run: (args, ctx) => runMerge(args, ctx.env),
};
