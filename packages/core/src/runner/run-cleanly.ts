// One run of the app outside learning (a committed or merged profile checked with exactly its flags),
// under the same rules as the learning runs: the user's environment, and the machine put back after.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../model/learn/index.js';
import type { MachineChanges } from '../model/profile.js';
import type { PathKind } from '../model/types.js';
import { appEnvironment, permlearnInstallation } from './app-env.js';
import { CleanState, initialAreas } from './clean-state.js';
import { onAbort } from './processes.js';
import { runApp, type AppSpec, type RunOptions } from './run-app.js';

/** The write grants a rendered flag list holds (`--allow-fs-write=/a/logs/*` → `/a/logs`, created-dir). */
export function writeGrantsOf(flags: readonly string[], cwd: string): { path: string; kind: PathKind }[] {
  const out: { path: string; kind: PathKind }[] = [];
  for (const f of flags) {
    const m = /^--allow-fs-write=(.+)$/.exec(f);
    if (!m) continue;
    for (const one of m[1]!.split(',')) {
      if (one === '*') continue;
      if (one.endsWith('/*')) out.push({ path: path.resolve(cwd, one.slice(0, -2)), kind: 'created-dir' });
      else if (one.endsWith('*')) out.push({ path: path.resolve(cwd, one.slice(0, -1)), kind: 'prefix' });
      else out.push({ path: path.resolve(cwd, one), kind: 'dir' });
    }
  }
  return out;
}

export async function runAppCleanly(
  spec: AppSpec,
  run: RunOptions,
  opts: { root: string; keepOutputs?: boolean },
): Promise<{ result: RunResult; machine: MachineChanges }> {
  const session = mkdtempSync(path.join(os.tmpdir(), 'permlearn-'));
  const clean = new CleanState({ sessionDir: session });
  let machine: MachineChanges | undefined;
  const finish = () => (machine ??= clean.finish(opts.keepOutputs === true));
  const forget = onAbort(() => {
    finish();
    rmSync(session, { recursive: true, force: true });
  });
  try {
    for (const area of initialAreas(opts.root, spec.cwd, os.homedir())) clean.capture(area);
    const env = appEnvironment(spec.env ?? process.env, opts.root, permlearnInstallation(opts.root)).env;
    const writes = writeGrantsOf(run.flags, spec.cwd);
    clean.beforeRun(writes);
    const result = await runApp({ ...spec, env }, run);
    clean.afterRun(writes, []);
    return { result, machine: finish() };
  } finally {
    forget();
    finish();
    rmSync(session, { recursive: true, force: true });
  }
}
