#!/usr/bin/env node
// Complain-mode overhead on a busy HTTP server: the traffic fixture driven by autocannon, without and
// with recording (the record preload; on 24+ under --permission-audit), side by side in one run, in
// alternating rounds so that machine load hits both alike. Then the record file's size after N requests.
//   node scripts/bench-record.mjs [--node 26] [--seconds 5] [--rounds 3] [--connections 10]
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { nodeBinary } from '@permlearn/test-nodes';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { node: { type: 'string', default: '26' }, seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '10' } } });
const major = Number(values.node);
const node = nodeBinary(major);
const preload = path.join(root, 'packages/core/recorder/record.cjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'pl-bench-record-'));
const app = path.join(work, 'traffic');
cpSync(path.join(root, 'fixtures/services/traffic'), app, { recursive: true });
const records = path.join(work, 'records');
// Every route: reads a template, writes an upload, spawns a child (the costliest) one time in eight.
const requests = ['/', '/report', '/upload', '/', '/report', '/', '/report', '/convert'].map((p) => ({ method: 'GET', path: p }));

function start(recording) {
  const flags = recording ? [...(major >= 24 ? ['--permission-audit'] : []), '--require', preload] : [];
  const env = { PATH: process.env.PATH, ...(recording ? { PERMLEARN_RECORD: records } : {}) };
  const child = spawn(node, [...flags, 'server.js', '0'], { cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const m = /listening on (\d+)/.exec(text);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

async function measure(recording) {
  const { child, port } = await start(recording);
  try {
    const r = await autocannon({ url: `http://127.0.0.1:${port}`, requests, connections: Number(values.connections), duration: Number(values.seconds) });
    return { rps: r.requests.average, p99: r.latency.p99, total: r.requests.total, errors: r.errors + r.non2xx };
  } finally {
    await stop(child);
  }
}

const rows = { off: [], on: [] };
for (let i = 0; i < Number(values.rounds); i++) {
  rows.off.push(await measure(false));
  rows.on.push(await measure(true));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (rs) => ({ rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), requests: rs.reduce((n, r) => n + r.total, 0), errors: rs.reduce((n, r) => n + r.errors, 0) });
const off = summary(rows.off);
const on = summary(rows.on);
const files = readdirSync(records).filter((n) => n.endsWith('.ndjson'));
const sizes = files.map((n) => statSync(path.join(records, n)).size);
console.log(`Node ${process.versions.node === undefined ? '' : ''}${major} (${major >= 24 ? 'audit mode' : 'observe mode'}), ${values.rounds} rounds of ${values.seconds} s, ${values.connections} connections, median of rounds`);
console.log(`                 req/s      p99 (ms)   requests   errors`);
console.log(`without record   ${off.rps.toFixed(0).padStart(8)}   ${String(off.p99).padStart(8)}   ${String(off.requests).padStart(8)}   ${off.errors}`);
console.log(`with record      ${on.rps.toFixed(0).padStart(8)}   ${String(on.p99).padStart(8)}   ${String(on.requests).padStart(8)}   ${on.errors}`);
console.log(`overhead         ${(((off.rps - on.rps) / off.rps) * 100).toFixed(1).padStart(7)}%   ${(((on.p99 - off.p99) / Math.max(off.p99, 1)) * 100).toFixed(1).padStart(7)}%`);
console.log(`record files: ${files.length} (one per process), ${Math.max(...sizes)} bytes the largest, after ${on.requests} recorded requests`);
rmSync(work, { recursive: true, force: true });
