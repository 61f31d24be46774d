#!/usr/bin/env node
// Benchmark: what the recorder costs an app's start. Installs Express 4 into a temp dir, then times
// `require('express')` under each bundled Node with the same grants, with and without the recorder
// preloaded (alternating, many rounds, median). Prints figures; asserts nothing.
// PROBES=1 measures the recorder as the observe strategy runs it (resolver probes on).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const rounds = Number(process.env.ROUNDS ?? 25);
const dir = mkdtempSync(path.join(os.tmpdir(), 'permlearn-bench-'));
try {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', 'express@4'], { cwd: dir, stdio: 'inherit' });
  writeFileSync(path.join(dir, 'app.js'), "require('express');\n");
  const recorder = path.join(dir, 'recorder.cjs');
  const source = readFileSync(path.join(root, 'packages', 'core', 'recorder', 'recorder.cjs'), 'utf8');
  writeFileSync(recorder, `const PERMLEARN_CONFIG = ${JSON.stringify({ fd: 3, ownerPid: process.pid, probes: process.env.PROBES === '1' })};\n${source}`);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\nrequire('express') start time, median of ${rounds} runs each:\n`);
  console.log('| Node | without recorder ms | with recorder ms | overhead |\n|---|---|---|---|');
  for (const major of [20, 22, 24, 26]) {
    const enable = major === 20 ? '--experimental-permission' : '--permission';
    const base = [enable, `--allow-fs-read=${dir}`];
    const time = (args) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(nodeBinary(major), args, { cwd: dir, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`node ${major} exited ${r.status}`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const plain = [];
    const recorded = [];
    for (let i = 0; i < rounds; i++) {
      plain.push(time([...base, 'app.js']));
      recorded.push(time([...base, '--require', recorder, 'app.js']));
    }
    const a = median(plain);
    const b = median(recorded);
    console.log(`| ${major} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(((b - a) / a) * 100).toFixed(1)} % |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
