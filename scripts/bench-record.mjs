#!/usr/bin/env node
// Complain-mode overhead on a busy HTTP server: the traffic fixture driven by autocannon, without and
// with recording (the record preload; on 24+ under --permission-audit), side by side in one run. Made
// for a noisy machine: each round starts both servers, warms each up, then measures them back to back
// (in alternating order), and the overhead is the median over rounds of the per-round ratio, so that
// load from other work, which shifts whole rounds, cancels out. Besides req/s and p99 (wall clock, which
// other work on a shared machine moves by tens of percent) it reports the server's own CPU time per
// request (utime + stime from /proc), which waiting for a core does not inflate. Then the record's size.
//   node scripts/bench-record.mjs [--node 26] [--rounds 9] [--seconds 3] [--warmup 1] [--connections 4] [--mix all|no-spawn]
// --instructions: instead of wall-clock rounds, count the instructions each arm executes (valgrind's
// callgrind, so the figures do not depend on what else the machine is doing): a loop making the fixture's
// checks (its routes' reads and writes, no HTTP) gives the recorder's cost per check; the fixture server
// answering a fixed number of requests gives the cost per request.
//   node scripts/bench-record.mjs --instructions [--node 26] [--checks 8000] [--requests 2000] [--mix all|no-spawn]
// --instructions --steady: one run per arm, its count read in blocks of requests (callgrind_control dumps at
// each of --marks), so that one-time costs (early blocks) are told apart from what recurs (the last block).
//   node scripts/bench-record.mjs --instructions --steady [--marks 1000,5000,10000,20000] [--arms off,audit,subscriber,on,observe] [--connections 4] [--keep-dumps <dir>]
// BENCH_V8_FLAGS='--perf-basic-prof' (environment, --instructions): more V8 flags for every arm; that one writes
// /tmp/perf-<pid>.map, which names the JIT code callgrind lists by address (the dump's pid: line picks the map).
// --build latest: the newest patch release of the major (packages/test-nodes) instead of the pinned build.
// --preload <file>: measure another copy of record.cjs (before/after: `git archive <commit> packages/core/recorder | tar -x -C /tmp/x`).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { nodeBinary } from '@permlearn/test-nodes';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    node: { type: 'string', default: '26' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '9' },
    connections: { type: 'string', default: '4' },
    mix: { type: 'string', default: 'all' },
    instructions: { type: 'boolean', default: false },
    checks: { type: 'string', default: '8000' },
    requests: { type: 'string', default: '2000' },
    steady: { type: 'boolean', default: false },
    marks: { type: 'string', default: '1000,5000,10000,20000' },
    arms: { type: 'string' },
    'keep-dumps': { type: 'string' },
    build: { type: 'string', default: 'pinned' },
    // another copy of the preload (e.g. an older commit's, from git archive), to compare before and after
    preload: { type: 'string' },
  },
});
const major = Number(values.node);
const rounds = Number(values.rounds);
const node = nodeBinary(major, values.build);
const preload = values.preload ? path.resolve(values.preload) : path.join(root, 'packages/core/recorder/record.cjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'pl-bench-record-'));
const app = path.join(work, 'traffic');
cpSync(path.join(root, 'fixtures/services/traffic'), app, { recursive: true });
const records = path.join(work, 'records');
const observed = path.join(work, 'records-observe');
// all: every route, a template read, an upload write, and a child spawned (the costliest) one time in
// eight; no-spawn: the same without the child, so the server is faster and the recorder's share larger.
const paths =
  values.mix === 'no-spawn'
    ? ['/', '/report', '/upload', '/', '/report', '/', '/report', '/upload']
    : ['/', '/report', '/upload', '/', '/report', '/', '/report', '/convert'];
const requests = paths.map((p) => ({ method: 'GET', path: p }));

// 'on': the preload (under --permission-audit on 24+); 'audit' (24+): --permission-audit alone, so that
// Node's own cost of audit mode is told apart from the recorder's; 'observe' (24+): the preload without
// --permission-audit (permlearn record --observe), which watches the JS API as on 20/22.
function start(recording) {
  const flags =
    recording === 'audit'
      ? ['--permission-audit']
      : recording === 'observe'
        ? ['--require', preload]
        : recording
          ? [...(major >= 24 ? ['--permission-audit'] : []), '--require', preload]
          : [];
  const env = {
    PATH: process.env.PATH,
    TRAFFIC_API_SECRET: 'bench',
    ...(recording && recording !== 'audit'
      ? { PERMLEARN_RECORD: recording === 'observe' ? observed : records, PERMLEARN_RECORD_KEY: 'bench-record-key-0123456789' }
      : {}),
  };
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

const load = (port, seconds) =>
  autocannon({ url: `http://127.0.0.1:${port}`, requests, connections: Number(values.connections), pipelining: 1, duration: seconds });

/** The process's own CPU time so far, in clock ticks (utime + stime, fields 14 and 15 of /proc/<pid>/stat). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function measure(server) {
  const before = cpuTicks(server.child.pid);
  const r = await load(server.port, Number(values.seconds));
  const cpu = cpuTicks(server.child.pid) - before;
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    total: r.requests.total,
    errors: r.errors + r.non2xx,
    cpuPerRequest: cpu / Math.max(r.requests.total, 1),
  };
}

if (values.instructions) {
  const { countInstructions, countSteady } = await import('./bench-record-instructions.mjs');
  if (values.steady) {
    const marks = values.marks.split(',').map(Number);
    if (marks.some((m, i) => !Number.isInteger(m) || m <= (marks[i - 1] ?? 0))) {
      console.error('bench-record: --marks takes request counts in increasing order, e.g. 1000,5000,20000');
      process.exit(2);
    }
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    console.error(`Node ${version}: ${node}`);
    await countSteady({
      node,
      major,
      app,
      records,
      preload,
      paths,
      marks,
      arms: values.arms?.split(','),
      connections: Number(values.connections),
      keep: values['keep-dumps'] && path.resolve(values['keep-dumps']),
    });
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  await countInstructions({ node, major, app, records, preload, paths, checks: Number(values.checks), requests: Number(values.requests) });
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

const rows = [];
for (let i = 0; i < rounds; i++) {
  const servers = { off: await start(false), on: await start(true), ...(major >= 24 ? { audit: await start('audit'), observe: await start('observe') } : {}) };
  try {
    for (const s of Object.values(servers)) await load(s.port, Number(values.warmup));
    const names = Object.keys(servers);
    const row = {};
    // A different order each round: whatever drifts during a round hits each arm in turn.
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + i) % names.length];
      row[name] = await measure(servers[name]);
    }
    rows.push(row);
  } finally {
    for (const s of Object.values(servers)) await stop(s.child);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const rpsRatios = rows.map((r) => r.on.rps / r.off.rps - 1);
const p99Ratios = rows.map((r) => r.on.p99 / Math.max(r.off.p99, 1) - 1);
const cpuRatios = rows.map((r) => r.on.cpuPerRequest / r.off.cpuPerRequest - 1);
const sum = (side, k) => rows.reduce((n, r) => n + r[side][k], 0);
const files = readdirSync(records).filter((n) => n.endsWith('.ndjson'));
const sizes = files.map((n) => statSync(path.join(records, n)).size);
console.log(
  `Node ${major} (${major >= 24 ? 'audit mode' : 'observe mode'}), mix ${values.mix}, ${rounds} rounds of ${values.seconds} s after ${values.warmup} s warm-up, ${values.connections} connections`,
);
console.log(`                 req/s (median)   p99 ms (median)   requests   errors`);
console.log(
  `without record   ${median(rows.map((r) => r.off.rps))
    .toFixed(0)
    .padStart(14)}   ${String(median(rows.map((r) => r.off.p99))).padStart(15)}   ${String(sum('off', 'total')).padStart(8)}   ${sum('off', 'errors')}`,
);
console.log(
  `with record      ${median(rows.map((r) => r.on.rps))
    .toFixed(0)
    .padStart(14)}   ${String(median(rows.map((r) => r.on.p99))).padStart(15)}   ${String(sum('on', 'total')).padStart(8)}   ${sum('on', 'errors')}`,
);
console.log(
  `overhead, median of per-round ratios: req/s ${pct(-median(rpsRatios))} (rounds ${rpsRatios.map((x) => pct(-x)).join(' ')}), p99 ${pct(median(p99Ratios))}`,
);
console.log(
  `server CPU time per request, median of per-round ratios: ${pct(median(cpuRatios))} (rounds ${cpuRatios.map(pct).join(' ')}); without ${(median(rows.map((r) => r.off.cpuPerRequest)) * 10).toFixed(2)} ms, with ${(median(rows.map((r) => r.on.cpuPerRequest)) * 10).toFixed(2)} ms (at 100 ticks/s)`,
);
if (major >= 24) {
  const auditCpu = rows.map((r) => r.audit.cpuPerRequest / r.off.cpuPerRequest - 1);
  const recorderCpu = rows.map((r) => r.on.cpuPerRequest / r.audit.cpuPerRequest - 1);
  const row = (label, side) =>
    console.log(
      `${label.padEnd(17)}${median(rows.map((r) => r[side].rps))
        .toFixed(0)
        .padStart(14)}   ${String(median(rows.map((r) => r[side].p99))).padStart(15)}   ${String(sum(side, 'total')).padStart(8)}   ${sum(side, 'errors')}`,
    );
  row('audit alone', 'audit');
  row('observe instead', 'observe');
  const observedFiles = readdirSync(observed).filter((n) => n.endsWith('.ndjson'));
  console.log(
    `observe mode instead of audit (the preload without --permission-audit): req/s ${pct(-median(rows.map((r) => r.observe.rps / r.off.rps - 1)))}, p99 ${pct(median(rows.map((r) => r.observe.p99 / Math.max(r.off.p99, 1) - 1)))}, CPU per request ${pct(median(rows.map((r) => r.observe.cpuPerRequest / r.off.cpuPerRequest - 1)))}; record files ${Math.max(...observedFiles.map((n) => statSync(path.join(observed, n)).size))} bytes the largest`,
  );
  console.log(
    `of which --permission-audit alone (no recorder): req/s ${pct(-median(rows.map((r) => r.audit.rps / r.off.rps - 1)))}, CPU per request ${pct(median(auditCpu))}; the recorder over audit alone: req/s ${pct(-median(rows.map((r) => r.on.rps / r.audit.rps - 1)))}, CPU per request ${pct(median(recorderCpu))}`,
  );
}
console.log(
  `record files: ${files.length} (one per process, ${rounds} processes), ${Math.max(...sizes)} bytes the largest, after about ${Math.round(sum('on', 'total') / rounds)} requests each`,
);
rmSync(work, { recursive: true, force: true });
