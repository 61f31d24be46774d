#!/usr/bin/env node
// `npm run bench`: three benchmarks, one after the other (runs and wall time per strategy, then the
// recorder's cost on start-up, then runs per Node build for the hidden-denial fixtures). Prints figures;
// asserts nothing. Arguments (Node majors) go to all three.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from './setup.mjs';

for (const script of ['bench-learn.mjs', 'bench-recorder.mjs', 'bench-hidden.mjs']) {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', script), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
