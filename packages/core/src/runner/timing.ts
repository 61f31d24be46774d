// Where the wall time of a learn goes: with PERMLEARN_TIMING=1 in permlearn's own environment, each
// phase prints one line to stderr with the milliseconds since the process started.
import { performance } from 'node:perf_hooks';

const on = process.env.PERMLEARN_TIMING === '1';

/** Note that a phase of permlearn's own work ended (a no-op unless PERMLEARN_TIMING=1). */
export function phase(label: string): void {
  if (on) process.stderr.write(`permlearn timing ${performance.now().toFixed(0).padStart(6)} ms  ${label}\n`);
}
