// `permlearn record -- <command>` (complain mode), building a profile from records (`--records` on the
// learn command, see learn.ts), and `permlearn check --records` (a committed profile against them).
import path from 'node:path';
import {
  PermlearnError,
  compareWithRecords,
  findRecordFiles,
  mergeRecords,
  readRecordFiles,
  realFs,
  recordCommand,
  recordsCaveats,
  type MergedRecords,
  targetOf,
  type Grant,
  type Profile,
} from '@permlearn/core';
import { base, msOf, numberOption, parseWith, type Parsed } from '../shared/options.js';
import type { CheckArgs } from './check.js';
import yargs, { type Argv } from 'yargs';
import type { Command } from '../shared/command.js';
import { EXIT } from '../exit-codes.js';
import { capabilitiesOfProfile, readProfile, refuseTooBroad } from '../shared/profile-io.js';
import { Reporter } from '../shared/report.js';
import { shortPath } from '../shared/paths.js';

export interface RecordArgs {
  command: string[];
  out: string;
  cwd?: string;
  node?: string;
  /** `--profile`: enforce this profile and record what it denies. */
  profile?: string;
  intervalMs?: number;
  /** `--observe`: the JS API even on Node 24+ (cheaper than audit mode, blind to Node's own checks). */
  observe?: boolean;
}

/** `permlearn record [--out DIR] [--profile p.json] -- <command...>` (argv without the word `record`). */
export async function parseRecordArgs(argv: string[]): Promise<Parsed<'record', RecordArgs>> {
  const parser = base(
    yargs(argv),
    'permlearn record',
    '$0 [--out DIR] [--profile permlearn.json] -- <command...>\n\nRun a service unchanged in complain mode: every Node process it starts records the checks it makes (Node 24+: --permission-audit; 20/22: its use of the JS API), one deduplicated file per process in DIR. Build a profile from them with permlearn --records DIR.',
    [
      ['$0 --out records -- node server.js', 'record a service in complain mode until it stops'],
      ['$0 --profile permlearn.json --out records -- npm start', 'enforce a profile and record what it denies'],
      ['$0 --observe --out records -- node server.js', "on Node 24+, the JS API instead of audit mode (cheaper, blind to Node's own checks)"],
    ],
  )
    .option('out', { type: 'string', default: 'permlearn-records', describe: 'the folder the records go to (created 0700)' })
    .option('profile', { type: 'string', describe: 'enforce this profile and record what it denies, with who asked' })
    .option('node', { type: 'string', describe: 'the Node binary the command runs (default: the command when it is node, else node on PATH)' })
    .option('cwd', { type: 'string', describe: 'run the command in this folder' })
    .option('interval', { type: 'string', describe: 'seconds between writes of each record (default 10)' })
    .option('observe', {
      type: 'boolean',
      describe:
        "on Node 24+, watch the JS API instead of audit mode: a fraction of the cost a check, but Node's own checks (module resolution, addons, network) unseen",
    });
  const { a, help } = await parseWith(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const command = [...a._.map(String), ...(a['--'] ?? []).map(String)];
  if (command.length === 0) throw new PermlearnError('usage', 'missing <command>: permlearn record -- <command...>');
  const args: RecordArgs = { command, out: String(a.out) };
  if (a.profile !== undefined) args.profile = String(a.profile);
  if (a.node !== undefined) args.node = String(a.node);
  if (a.cwd !== undefined) args.cwd = String(a.cwd);
  if (a.observe === true) {
    if (args.profile !== undefined)
      throw new PermlearnError('usage', '--observe records what the service uses, --profile what a profile denies: give one of them');
    args.observe = true;
  }
  if (a.interval !== undefined) args.intervalMs = msOf(numberOption('interval', a.interval, { min: 0.05, max: 3600, integer: false, unit: 'seconds' }));
  return { kind: 'record', args };
}

/** Run the service in complain mode until it stops; exit 0 when it ended well or was stopped by a signal. */
export async function runRecord(args: RecordArgs, report: Reporter): Promise<number> {
  const enforceFlags = args.profile !== undefined ? readProfile(args.profile).flags : undefined;
  const out = path.resolve(args.cwd ?? process.cwd(), args.out);
  report.note(
    `permlearn record: ${args.command.join(' ')} → ${shortPath(out)}${enforceFlags ? ` (enforcing ${shortPath(args.profile!)}, recording denials)` : ''}`,
  );
  const run = await recordCommand({
    command: args.command,
    out,
    ...(args.cwd ? { cwd: args.cwd } : {}),
    ...(args.node ? { node: args.node } : {}),
    ...(enforceFlags ? { enforceFlags } : {}),
    ...(args.observe ? { observe: true } : {}),
    ...(args.intervalMs !== undefined ? { intervalMs: args.intervalMs } : {}),
  });
  const how =
    run.mode === 'audit'
      ? 'audit mode (every check Node made)'
      : run.mode === 'enforce'
        ? 'enforce mode (what the profile denied)'
        : args.observe
          ? 'observe mode (the JS API, as asked; see the records for what it cannot see)'
          : 'observe mode (the JS API; Node before 24 has no audit mode, see the records for what it cannot see)';
  report.note(`recorded under Node ${run.node} in ${how}; build a profile with: permlearn --records ${shortPath(out)}`);
  if (run.keyFile) report.note(`the records are signed with the key in ${shortPath(run.keyFile)} (keep it with them, or give PERMLEARN_RECORD_KEY)`);
  if (run.signal) return run.signal === 'SIGINT' || run.signal === 'SIGTERM' || run.signal === 'SIGHUP' ? EXIT.ok : EXIT.appFailed;
  return run.exitCode === 0 ? EXIT.ok : EXIT.appFailed;
}

/** Read and merge the records a list of files and folders names. */
export function loadRecords(given: readonly string[]): MergedRecords {
  const merged = mergeRecords(readRecordFiles(findRecordFiles(given)));
  if (merged.files.length === 0)
    throw new PermlearnError('usage', `no record of ${given.join(', ')} passed the key check: ${recordsCaveats(merged).join('; ')}`);
  if (merged.entries.length === 0) throw new PermlearnError('usage', `the records (${given.join(', ')}) saw nothing to grant`);
  return merged;
}

/** The entry and cwd the records ran, when they agree. */
export function recordedApp(merged: MergedRecords): { entry: string; cwd: string } | undefined {
  const mains = new Set(merged.files.map((f) => `${f.main ?? ''}\u0000${f.cwd ?? ''}`));
  const f = merged.files[0];
  return mains.size === 1 && f?.main && f.cwd ? { entry: f.main, cwd: f.cwd } : undefined;
}

const when = (ms: number | undefined) => (ms === undefined ? '?' : new Date(ms).toISOString());

/** `permlearn check --records …`: exit 7 for needs the profile lacks (and, with --strict, grants unused all along). */
export function checkRecords(args: CheckArgs, profileFile: string): number {
  const profile: Profile = readProfile(profileFile);
  refuseTooBroad(profile, shortPath(profileFile), args.app.acceptBroad ?? [], profile.cwd);
  const merged = loadRecords(args.records ?? []);
  for (const caveat of recordsCaveats(merged)) process.stderr.write(`permlearn: warning: ${caveat}\n`);
  const grants: Grant[] = profile.grants.map((g) => ({
    ...targetOf(g),
    denials: [],
    notes: [],
  }));
  const flags = new Map(grants.map((g, i) => [g, profile.grants[i]!.flag]));
  const caps = capabilitiesOfProfile(profile);
  const implicit = caps.autoGrantsEntry && !profile.command ? [path.resolve(profile.cwd, profile.entry)] : [];
  const result = compareWithRecords(
    grants,
    merged,
    caps,
    (p) => realFs.kind(p),
    (g) => flags.get(g)!,
    implicit,
  );
  const failed = result.newNeeds.length > 0 || (args.strict && result.unused.length > 0);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ profile: profileFile, status: failed ? 'failed' : 'ok', ...result }, null, 2)}\n`);
  } else {
    const lines = [
      `${shortPath(profileFile)} against ${result.records} record${result.records === 1 ? '' : 's'} (${when(result.first)} to ${when(result.last)}):`,
    ];
    for (const n of result.newNeeds) {
      lines.push(
        `  new need: ${n.permission} ${n.resource || '(no resource)'}${n.denied ? ' (denied)' : ''}, ${n.count}×, seen in ${n.seenIn} of ${result.records}, ${when(n.first)} to ${when(n.last)}${n.sites.length ? `, asked by ${n.sites.join(', ')}` : ''}`,
      );
    }
    for (const u of result.unused) lines.push(`  unused for the whole period: ${u}`);
    if (!result.newNeeds.length && !result.unused.length) lines.push('  every recorded check is covered, and every grant was used');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return failed ? EXIT.checkFailed : EXIT.ok;
}

export const command: Command<RecordArgs> = {
  name: 'record',
  describe: 'record a service in complain mode, one record file per process',
  starts: 'service',
  parse: parseRecordArgs,
  run: (args, ctx) => runRecord(args, ctx.reporter),
};
