// How a run ended, in yes/no and in words: pure functions of one RunResult.
import type { ExerciseResult, RunResult } from './types.js';

export function runSucceeded(r: RunResult): boolean {
  if (r.outcome === 'ready') return !exerciseFailed(r);
  return r.outcome === 'exited' && r.exitCode === 0;
}

/** The exercise command that failed in a run, if one did. */
export function exerciseFailed(r: RunResult): ExerciseResult | undefined {
  return r.exercise?.find((e) => e.exitCode !== 0);
}

/** Did a run start cleanly with nothing denied escaping anywhere (main thread, Worker or Node child)? */
export function startedCleanly(r: RunResult): boolean {
  return runSucceeded(r) && !r.denials.some((d) => d.source === 'uncaught');
}

export function describeOutcome(r: RunResult): string {
  if (r.outcome === 'timeout') return 'neither exited nor became ready in time';
  if (r.outcome === 'spawn-error') return `could not start (${r.error ?? 'unknown error'})`;
  if (r.signal) return `was killed by ${r.signal}`;
  return `exited with code ${r.exitCode}`;
}

export function failureReason(r: RunResult): string {
  const failed = exerciseFailed(r);
  if (r.outcome === 'ready' && failed) {
    const how = failed.timedOut ? 'timed out' : `exited with code ${failed.exitCode}`;
    return `the exercise command \`${failed.command}\` ${how} with no permission denial seen in the app`;
  }
  if (r.outcome === 'timeout') {
    if (r.waitedFor) return `the app did not become ready in time (no ${r.waitedFor} came), and no permission was denied`;
    return 'the app neither exited nor became ready in time, with no permission denial; for a server, pass --ready-port, --ready-url, --ready-stdout or --timeout';
  }
  const base = `the app ${describeOutcome(r)} without a permission denial`;
  if (!r.recorderLoaded) {
    return `${base} reported by permlearn's recorder, which did not load in any Node process it started${r.stderrDenials.length > 0 ? ' (its stderr shows denial text; permlearn does not grant on printed text)' : ''}`;
  }
  if (r.stderrDenials.length > 0) {
    return `${base} in its own process (its stderr shows denial text, which came from a child process or was printed by the app; permlearn does not grant on printed text)`;
  }
  const known = knownNodeFailure(`${r.stderrTail}\n${r.stdoutTail ?? ''}`);
  if (known) return `${base}: ${known}`;
  if (r.stdoutTail !== undefined && /ERR_ACCESS_DENIED/.test(r.stdoutTail)) {
    return `${base} reported by permlearn's recorder (its stdout shows denial text, where Node's test runner prints a failure, its own or a test file's; permlearn does not grant on printed text: run a test file itself, \`node <test file>\`)`;
  }
  return base;
}

/**
 * A failure of Node's own that no grant can lift, named from what the run printed. Wording only: what an
 * app prints never adds a grant.
 */
export function knownNodeFailure(output: string): string | undefined {
  // 24 and 26's test runner starts each test file with `--allow-fs-read=` and no value (docs/node-versions.md).
  if (/--allow-fs-read= requires an argument/.test(output)) {
    return "Node's test runner started its test files with an empty --allow-fs-read=, which Node refuses (a bug of the runner under the permission model, whatever the grants); `node --test --test-isolation=none` runs them in its own process instead";
  }
  return undefined;
}
