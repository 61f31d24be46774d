// Runs the app once: spawn it under the given flags, wait for it to exit or become ready,
// stop it and everything it started, and hand back what happened as data.
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DropCall } from '../model/drop-plan/index.js';
import type { ExerciseResult, ReadyBy, RunResult } from '../model/learn/index.js';
import { emptyReport, markOwnEntries, messageKind, runFieldsOf } from '../model/parse-events.js';
import { parseStderrDenials } from '../model/parse-stderr.js';
import { childLostFlags } from '../model/child-flags.js';
import { KEY_FD, RECORDER_FD } from './session.js';
import { addChildReports, keyPipeText, SignedLines, tokenVerifier, verifierFor, type RunKeys } from './evidence.js';
import { spawnGroup, stopGroup } from './processes.js';
import { awaited, startReadinessTimers } from './readiness.js';
import { runExercise, tail, TAIL_BYTES } from './exercise.js';
import { appArgv, ownWords, permissionWords, spawnPlan } from './spawn-plan.js';
import { phase } from './timing.js';
import { writeFileAtomic } from './write-file.js';

export { portAccepting } from './readiness.js';
export { appArgv } from './spawn-plan.js';

export interface Readiness {
  /** Ready when a line of stdout matches. */
  stdout?: RegExp;
  /** Ready when a TCP connect to this port on the loopback succeeds. */
  port?: number;
  /** Ready when an HTTP GET answers 2xx. */
  url?: string;
  /** Ready when the app is still running after this long. */
  aliveAfterMs?: number;
}

export interface AppSpec {
  node: string;
  entry: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  readiness: Readiness;
  /** Give up on a run that neither exits nor becomes ready after this long. */
  maxRunMs: number;
  /** Time between SIGTERM and SIGKILL when stopping the app. */
  graceMs: number;
  /** How long a ready app is watched before it is stopped: a failure this soon after readiness
   *  (a log stream that cannot open, say) still counts as the run's outcome. */
  settleMs?: number;
  /** Shell commands run one after another once the app is ready, while it keeps running. */
  exercise?: string[];
  /** Run this command instead of `node entry`: the permission flags and the recorder reach every Node
   *  process it starts through NODE_OPTIONS (`permlearn run -- npm start`). `node` is put first on PATH. */
  command?: string[];
}

export interface RunOptions {
  flags: string[];
  /** Path of the recorder to preload, or undefined for a plain run (verification). */
  recorderPath?: string;
  /** Folder where Node children report; they get the recorder through NODE_OPTIONS. */
  eventsDir?: string;
  /** ES module files to preload with --import (granted for reading), after the recorder. */
  imports?: string[];
  /** Further files the preloads read (granted for reading). */
  preloadReads?: string[];
  /** Drop-plan verification: once the app is ready, write these drops to `dropFile` (which the
   *  recorder given as recorderPath watches) and wait until the recorder has applied them. */
  drops?: DropCall[];
  dropFile?: string;
  /** Pass every flag in NODE_OPTIONS instead of on the command line (`node entry` is spawned bare): a
   *  Node child whose parent rebuilds its execArgv still reads them there. */
  viaNodeOptions?: boolean;
  /** A path granted for reading first of all (it need not exist), so that a Node child whose parent
   *  rebuilt its execArgv one value per flag is seen to lack it (the recorder reports its flags). */
  canary?: string;
  /** The session's keys: the recorder signs every line with them, and unsigned lines are dropped.
   *  Without them (a run with no recorder) nothing on the channel is read. */
  keys?: RunKeys;
}

/** One run of the app under `run`'s flags, from spawn to the last process stopped, as data. */
export async function runApp(spec: AppSpec, run: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const plan = spawnPlan(spec, run);
  // `node entry` with the recorder: the key goes through one more pipe, read and closed by the
  // recorder before the app's code runs. A command gets it in its Node processes' environment.
  const keyPipe = run.recorderPath !== undefined && run.keys !== undefined && !spec.command;
  // The app in a process group of its own (so all of it can be stopped), known to the watchdog before
  // it runs (processes.ts), with the recorder's channel (and the key pipe) as extra descriptors.
  phase('run: spawning');
  const child = spawnGroup(plan.file, plan.args, {
    cwd: spec.cwd,
    env: plan.env ?? process.env,
    stdio: keyPipe ? ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let spawnError: Error | undefined;
  const failedToStart = new Promise<Error>((resolve) => child.once('error', (err) => resolve((spawnError = err))));
  // Every stream closed and the process gone: what was written is all read.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) {
    const err = await failedToStart;
    return {
      outcome: 'spawn-error',
      denials: [],
      recorderLoaded: false,
      stderrDenials: [],
      stderrTail: '',
      durationMs: Date.now() - started,
      error: `could not run ${plan.file}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
    };
  }
  if (keyPipe) {
    const keyStream = child.stdio[KEY_FD] as NodeJS.WritableStream | undefined;
    keyStream?.on('error', () => undefined); // the app died before the recorder read it
    keyStream?.end(keyPipeText(run.keys!));
  }

  let stdout = '';
  let stderr = '';
  // Only authenticated lines are evidence: the app's carry the token; a command's Node processes sign
  // theirs with the child key.
  const events = run.keys ? new SignedLines(spec.command ? verifierFor(run.keys.child) : tokenVerifier(run.keys.main)) : undefined;
  let readyBy: ReadyBy | undefined;
  let settle!: (how: 'ready' | 'exit' | 'timeout') => void;
  const settled = new Promise<'ready' | 'exit' | 'timeout'>((resolve) => (settle = resolve));
  let finished = false;
  let readyTime: number | undefined;
  const markReady = (by: ReadyBy) => {
    if (finished) return;
    readyBy = by;
    readyTime = Date.now();
    settle('ready');
  };

  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  const fd = child.stdio[RECORDER_FD] as NodeJS.ReadableStream | undefined;
  fd?.setEncoding('utf8');
  if (events) fd?.on('data', (chunk: string) => events.add(chunk));
  else fd?.resume();
  child.stderr?.on('data', (chunk: string) => (stderr = tail(stderr + chunk)));
  let pending = '';
  child.stdout?.on('data', (chunk: string) => {
    stdout = tail(stdout + chunk);
    if (!spec.readiness.stdout) return;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    if (pending.length > TAIL_BYTES) pending = pending.slice(-TAIL_BYTES);
    if (lines.some((l) => spec.readiness.stdout!.test(l)) || spec.readiness.stdout.test(pending)) markReady('stdout');
  });

  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  let markExited!: () => void;
  const exited = new Promise<true>((resolve) => (markExited = () => resolve(true)));
  child.once('exit', (code, sig) => {
    exitCode = code;
    exitSignal = sig;
    markExited();
    settle('exit');
  });

  const timers = startReadinessTimers(spec, { ready: markReady, timeout: () => settle('timeout'), finished: () => finished });

  let how = await settled;
  phase(`run: ${how}`);
  finished = true;
  if (how === 'ready' && run.drops && run.dropFile) {
    // Written whole under its name in one step: the recorder polls for the file, and one it found
    // created but not yet written (a loaded machine can pause permlearn between the two) failed to
    // parse, which left a good plan unverified.
    writeFileAtomic(run.dropFile, JSON.stringify(run.drops), { force: true });
    // The recorder polls for the file; wait until it says the drops are in place (or the app dies).
    // Only the lines that came since the last look are read again.
    let seen = 0;
    const applied = () => {
      if (!events) return false;
      const lines = events.text.slice(seen).split('\n');
      seen = events.text.length;
      return lines.some((body) => messageKind(body) === 'dropped');
    };
    for (let i = 0; i < 500 && !applied() && exitCode === null && exitSignal === null; i++) await sleep(20);
  }
  const exercise: ExerciseResult[] = [];
  if (how === 'ready' && spec.exercise?.length) {
    for (const command of spec.exercise) {
      const result = await Promise.race([runExercise(command, spec, exited), exited.then(() => undefined)]);
      if (result === undefined) break; // the app died while serving: that is the run's outcome
      exercise.push(result);
      if (result.exitCode !== 0) break;
    }
  }
  if (how === 'ready' && (spec.settleMs ?? 0) > 0) {
    const died = await Promise.race([exited, new Promise<false>((resolve) => timers.push(setTimeout(() => resolve(false), spec.settleMs)))]);
    for (const t of timers) clearTimeout(t);
    if (died && exitCode !== 0) how = 'exit';
  }
  for (const t of timers) clearTimeout(t);
  phase('run: stopping');
  await stopGroup(pid, spec.graceMs, exited);
  phase('run: group gone');
  // Streams close once every process holding them is gone (an error after the start closes nothing).
  if (!spawnError) await closed;

  phase('run: streams closed');
  events?.end();
  const report = events ? await events.reportYielding() : emptyReport();
  // The process started first reads its own entry under Node's grant too (a command's `node app.js`).
  report.modules = markOwnEntries(report, 'main');
  const children = run.eventsDir && run.keys ? addChildReports(run.eventsDir, run.keys.child, report) : { forgedFiles: 0, forgedLines: 0, cappedFiles: 0 };
  const counts = {
    forged: report.forged + report.oversized,
    forgedFiles: children.forgedFiles,
    forgedLines: children.forgedLines,
    channelDropped: events?.dropped ?? 0,
    cappedFiles: children.cappedFiles,
  };
  const openCwd = [...new Set(report.processes.flatMap((p) => (p.openCwd !== undefined ? [p.openCwd] : [])))];
  const base = {
    ...runFieldsOf(report),
    ...(openCwd.length ? { openCwd } : {}),
    // A command's Node processes all report as children: any of them saying hello is enough.
    recorderLoaded: report.loaded || (spec.command !== undefined && report.processes.length > 0),
    stderrDenials: parseStderrDenials(stderr),
    stderrTail: stderr,
    durationMs: Date.now() - started,
  };
  if (exercise.length) Object.assign(base, { exercise });
  if (Object.values(counts).some((n) => n > 0)) Object.assign(base, { evidence: counts });
  if (readyTime !== undefined) Object.assign(base, { readyTime });
  if (run.dropFile) rmSync(run.dropFile, { force: true });
  // Only the command line's flags can be lost by a child that rebuilds its execArgv.
  const lost =
    run.recorderPath && !run.viaNodeOptions && !spec.command
      ? childLostFlags(report.processes, permissionWords(appArgv(spec, run).slice(0, -(1 + spec.args.length))), ownWords(spec, run))
      : undefined;
  if (lost) Object.assign(base, { childLost: lost });
  if (how === 'ready') return { ...base, outcome: 'ready', readyBy: readyBy! };
  if (how === 'timeout') return { ...base, outcome: 'timeout', stdoutTail: stdout, ...(awaited(spec.readiness) ? { waitedFor: awaited(spec.readiness) } : {}) };
  return { ...base, outcome: 'exited', exitCode, signal: exitSignal, ...(exitCode !== 0 && stdout ? { stdoutTail: stdout } : {}) };
}
