// `permlearn record -- <command>` (complain mode), building a profile from records (`--records` on the
// learn command, see learn-command.ts), and `permlearn check --records` (a committed profile against them).
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
  type Grant,
  type Profile,
} from '@permlearn/core';
import type { CheckArgs, RecordArgs } from './args.js';
import { EXIT } from './exit-codes.js';
import { readProfileFile } from './profile-file.js';
import { Reporter } from './report.js';
import { capabilitiesOfProfile, refuseTooBroad } from './render-command.js';
import { shortPath } from './plan.js';

export async function recordCommandLine(args: RecordArgs, report: Reporter): Promise<number> {
  const enforceFlags = args.profile !== undefined ? readProfileFile(args.profile).flags : undefined;
  const out = path.resolve(args.cwd ?? process.cwd(), args.out);
  report.note(`permlearn record: ${args.command.join(' ')} → ${shortPath(out)}${enforceFlags ? ` (enforcing ${shortPath(args.profile!)}, recording denials)` : ''}`);
  const run = await recordCommand({
    command: args.command,
    out,
    ...(args.cwd ? { cwd: args.cwd } : {}),
    ...(args.node ? { node: args.node } : {}),
    ...(enforceFlags ? { enforceFlags } : {}),
    ...(args.intervalMs !== undefined ? { intervalMs: args.intervalMs } : {}),
  });
  const how = run.mode === 'audit' ? 'audit mode (every check Node made)' : run.mode === 'enforce' ? 'enforce mode (what the profile denied)' : 'observe mode (the JS API; Node before 24 has no audit mode, see the records for what it cannot see)';
  report.note(`recorded under Node ${run.node} in ${how}; build a profile with: permlearn --records ${shortPath(out)}`);
  if (run.keyFile) report.note(`the records are signed with the key in ${shortPath(run.keyFile)} (keep it with them, or give PERMLEARN_RECORD_KEY)`);
  if (run.signal) return run.signal === 'SIGINT' || run.signal === 'SIGTERM' || run.signal === 'SIGHUP' ? EXIT.ok : EXIT.appFailed;
  return run.exitCode === 0 ? EXIT.ok : EXIT.appFailed;
}

/** Read and merge the records a list of files and folders names. */
export function loadRecords(given: readonly string[]): MergedRecords {
  const merged = mergeRecords(readRecordFiles(findRecordFiles(given)));
  if (merged.files.length === 0) throw new PermlearnError('usage', `no record of ${given.join(', ')} passed the key check: ${recordsCaveats(merged).join('; ')}`);
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
  const profile: Profile = readProfileFile(profileFile);
  refuseTooBroad(profile, shortPath(profileFile), args.app.acceptBroad ?? [], profile.cwd);
  const merged = loadRecords(args.records ?? []);
  for (const caveat of recordsCaveats(merged)) process.stderr.write(`permlearn: warning: ${caveat}\n`);
  const grants: Grant[] = profile.grants.map((g) => ({ scope: g.scope, ...(g.path !== undefined ? { path: g.path } : {}), ...(g.kind ? { kind: g.kind } : {}), denials: [], notes: [] }));
  const flags = new Map(grants.map((g, i) => [g, profile.grants[i]!.flag]));
  const caps = capabilitiesOfProfile(profile);
  const implicit = caps.autoGrantsEntry && !profile.command ? [path.resolve(profile.cwd, profile.entry)] : [];
  const result = compareWithRecords(grants, merged, caps, (p) => realFs.kind(p), (g) => flags.get(g)!, implicit);
  const failed = result.newNeeds.length > 0 || (args.strict && result.unused.length > 0);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ profile: profileFile, status: failed ? 'failed' : 'ok', ...result }, null, 2)}\n`);
  } else {
    const lines = [`${shortPath(profileFile)} against ${result.records} record${result.records === 1 ? '' : 's'} (${when(result.first)} to ${when(result.last)}):`];
    for (const n of result.newNeeds) {
      lines.push(`  new need: ${n.permission} ${n.resource || '(no resource)'}${n.denied ? ' (denied)' : ''}, ${n.count}×, seen in ${n.seenIn} of ${result.records}, ${when(n.first)} to ${when(n.last)}${n.sites.length ? `, asked by ${n.sites.join(', ')}` : ''}`);
    }
    for (const u of result.unused) lines.push(`  unused for the whole period: ${u}`);
    if (!result.newNeeds.length && !result.unused.length) lines.push('  every recorded check is covered, and every grant was used');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return failed ? EXIT.checkFailed : EXIT.ok;
}
