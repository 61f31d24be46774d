// What to spawn for one run: the argv permlearn passes to node (flags, recorder, grants for its own
// files), or a command with all of it in NODE_OPTIONS, and the environment without any key in it.
import path from 'node:path';
import { nodeOptionsQuote } from '../model/render.js';
import { RECORD_KEY_ENV } from './record-files.js';
import { RECORDER_KEY_ENV } from './evidence.js';
import type { AppSpec, RunOptions } from './run-app.js';
import { coveredByFlags } from './own-grants.js';

/** The argv permlearn passes to node for one run. */
export function appArgv(spec: AppSpec, run: RunOptions): string[] {
  // permlearn's own grants come after the app's and only where no app grant already reaches: Node denies
  // a granted directory itself when a path below it is stored too (stored first on 22+, in any order
  // on 20), and the session folder may lie inside what the app is granted (an accepted $TMPDIR).
  const own = (scope: 'read' | 'write', p: string): string[] => (coveredByFlags(run.flags, scope, p) ? [] : [`--allow-fs-${scope}=${p}`]);
  // The canary first among them, so that a child keeping only the first or only the last of its
  // --allow-fs-read flags lacks it (child-flags.ts).
  const grants = run.recorderPath ? [...(run.canary ? own('read', run.canary) : []), ...(run.eventsDir ? own('write', run.eventsDir) : [])] : [];
  const preload = run.recorderPath ? [...own('read', run.recorderPath), '--require', run.recorderPath] : [];
  // Grants on the command line travel to spawned Node children (22+), so they may write their reports.
  for (const file of run.preloadReads ?? []) preload.push(...own('read', file));
  if (run.dropFile) preload.push(...own('read', run.dropFile));
  for (const file of run.imports ?? []) preload.push('--import', file);
  return [...run.flags, ...grants, ...preload, spec.entry, ...spec.args];
}

/** An environment without a recorder key in it (one from the caller's environment is never passed on),
 *  nor the complain-mode record key permlearn may have been given to check records with. */
function withoutKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!(RECORDER_KEY_ENV in env) && !(RECORD_KEY_ENV in env)) return env;
  const { [RECORDER_KEY_ENV]: _dropped, [RECORD_KEY_ENV]: _record, ...rest } = env;
  return rest;
}

/** What to spawn for one run: `node <flags> <entry> <args>`, or the command with everything in NODE_OPTIONS. */
export function spawnPlan(spec: AppSpec, run: RunOptions): { file: string; args: string[]; env: NodeJS.ProcessEnv | undefined } {
  const base = spec.env ?? process.env;
  const existing = base.NODE_OPTIONS ? `${base.NODE_OPTIONS} ` : '';
  if (spec.command) {
    // Everything travels in NODE_OPTIONS, to every Node process the command starts; so does the child
    // key, which each Node process's recorder takes out of its environment before the app runs.
    const words = appArgv(spec, run).slice(0, -(1 + spec.args.length));
    const PATH = [path.dirname(spec.node), base.PATH].filter(Boolean).join(path.delimiter);
    const key = run.recorderPath && run.keys ? { [RECORDER_KEY_ENV]: run.keys.child } : {};
    return {
      file: spec.command[0]!,
      args: spec.command.slice(1),
      env: { ...withoutKey(base), ...key, PATH, NODE_OPTIONS: `${existing}${words.map(nodeOptionsQuote).join(' ')}` },
    };
  }
  if (run.viaNodeOptions) {
    // The flags, preloads and grants all travel in NODE_OPTIONS, after whatever it already holds.
    const words = appArgv(spec, run).slice(0, -(1 + spec.args.length));
    return {
      file: spec.node,
      args: [spec.entry, ...spec.args],
      env: { ...withoutKey(base), NODE_OPTIONS: `${existing}${words.map(nodeOptionsQuote).join(' ')}` },
    };
  }
  if (run.recorderPath && run.eventsDir) {
    // The recorder comes first, ahead of any preload the environment already names.
    return {
      file: spec.node,
      args: appArgv(spec, run),
      env: { ...withoutKey(base), NODE_OPTIONS: `--require ${nodeOptionsQuote(run.recorderPath)} ${existing}`.trim() },
    };
  }
  return { file: spec.node, args: appArgv(spec, run), env: spec.env };
}

/** The permission words of an argv (up to the entry file). */
export function permissionWords(argv: readonly string[]): string[] {
  return argv.filter((w) => /^--(permission|permission-audit|experimental-permission|allow-[a-z-]+)(=|$)/.test(w));
}

/** The permission words permlearn adds to a run for its own files (recorder, events, canary): not the app's. */
export function ownWords(spec: AppSpec, run: RunOptions): Set<string> {
  const all = permissionWords(appArgv(spec, run).slice(0, -(1 + spec.args.length)));
  const app = new Set(run.flags);
  return new Set(all.filter((w) => !app.has(w)));
}
