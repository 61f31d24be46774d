// One exercise command of a run (`--exercise`): run through the shell while the app keeps running,
// stopped with everything it started at the run's time limit.
import type { ExerciseResult } from '../model/learn/index.js';
import type { AppSpec } from './run-app.js';
import { spawnGroup, stopGroup } from './processes.js';

export const TAIL_BYTES = 16 * 1024;

/** The last TAIL_BYTES of a stream's text. */
export function tail(text: string): string {
  return text.length > TAIL_BYTES ? text.slice(-TAIL_BYTES) : text;
}

/** One exercise command: run through the shell in the app's folder, in a process group of its own,
 *  limited to the run's time limit. At the limit the whole group is stopped (SIGTERM, then SIGKILL
 *  after the grace time), with whatever it started that left the group: a grandchild holding the
 *  output pipe would otherwise keep the command from ever finishing. */
export async function runExercise(command: string, spec: AppSpec, appExited: Promise<unknown>): Promise<ExerciseResult> {
  const started = Date.now();
  // Exactly this environment: what permlearn's launcher added is taken out of it (app-env.ts).
  const child = spawnGroup('/bin/sh', ['-c', command], { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  // stdout and stderr as one text, in the order they came: the tail shown when the command fails.
  let all = '';
  const add = (chunk: string) => (all = tail(all + chunk));
  child.stdout?.setEncoding('utf8').on('data', add);
  child.stderr?.setEncoding('utf8').on('data', add);
  const finished = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      add(`${err.message}\n`);
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (pid !== undefined) void stopGroup(pid, spec.graceMs);
  }, spec.maxRunMs);
  // The shell may exit while something it started still holds the pipe: stop the group then too.
  let done = false;
  child.once('exit', () => {
    if (pid !== undefined && !timedOut) void stopGroup(pid, 0);
  });
  // Nothing to exercise once the app is gone.
  void appExited.then(() => {
    if (!done && pid !== undefined) void stopGroup(pid, spec.graceMs);
  });
  const exitCode = await finished;
  done = true;
  clearTimeout(timer);
  if (pid !== undefined) await stopGroup(pid, 0);
  const out: ExerciseResult = { command, exitCode: timedOut ? null : exitCode, durationMs: Date.now() - started };
  if (timedOut || exitCode !== 0) out.outputTail = all.slice(-2000);
  if (timedOut) out.timedOut = true;
  return out;
}
