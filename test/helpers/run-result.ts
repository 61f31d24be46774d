// A run's result as a scripted runner returns it in the learn loop's unit tests: a clean exit by default.
import type { RunResult } from '../../packages/core/src/model/learn/types.js';

export function runResult(extra: Partial<RunResult> = {}): RunResult {
  return { outcome: 'exited', exitCode: 0, denials: [], recorderLoaded: true, stderrDenials: [], stderrTail: '', durationMs: 5, ...extra };
}
