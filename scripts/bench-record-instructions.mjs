// The instruction-count mode of bench-record.mjs (--instructions): what the record preload costs, counted
// by valgrind's callgrind instead of timed, so that other work on a shared machine does not move it.
// Each arm runs the same Node binary with V8 made deterministic (one thread, fixed seeds):
//   off         plain node
//   audit       --permission-audit alone (24+): Node's own cost of audit mode
//   subscriber  --permission-audit and a subscriber that does nothing (24+): Node's cost of publishing
//               each check to JavaScript, the floor under any recorder
//   on          the record preload (under --permission-audit on 24+; observe mode on 20/22)
//   observe     (24+) the record preload without --permission-audit: it watches the JS API, as on 20/22
//               (permlearn record --observe), and Node makes no checks at all
// Per check: a loop making the traffic fixture's route checks (the template and token reads of /report,
// the mkdir and write of /upload) K times, minus the same program making them K/4 times (so that start-up
// and most of the JIT's warm-up cancel out), divided by the checks the recorder counted in 3K/4 turns. Per request: the fixture server answering R and R/4 requests (a
// keep-alive client outside valgrind, one request at a time), the difference over the 3R/4 requests.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const V8_DETERMINISTIC = [
  '--single-threaded',
  '--hash-seed=1',
  '--random-seed=1',
  ...(process.env.BENCH_V8_FLAGS ? process.env.BENCH_V8_FLAGS.split(' ') : []),
];

const LOOP = `'use strict';
// bench-record --instructions: the traffic fixture's route checks, K times, without HTTP.
const fs = require('fs');
const path = require('path');
const k = Number(process.argv[2]);
const templates = path.join(__dirname, 'templates');
const uploads = path.join(__dirname, 'uploads');
let n = 0;
for (let i = 0; i < k; i++) {
  n += fs.readFileSync(path.join(templates, 'token.txt'), 'utf8').length;
  n += fs.readFileSync(path.join(templates, 'report.html'), 'utf8').length;
  fs.mkdirSync(uploads, { recursive: true });
  fs.writeFileSync(path.join(uploads, 'u' + (i % 4) + '.txt'), 'data');
}
if (n < 0) console.log(n);
`;

const EMPTY_SUBSCRIBER = `'use strict';
const dc = require('diagnostics_channel');
for (const name of ['fs', 'child', 'worker', 'wasi', 'inspector', 'addon', 'openssl-store', 'net', 'ffi'])
  dc.subscribe('node:permission-model:' + name, () => {});
`;

/** The arm under way: stopped with this script (a Ctrl-C or a kill of the script left valgrind running). */
let current;
process.on('exit', () => current?.kill('SIGKILL')); // an error in the script too
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    current?.kill('SIGKILL');
    process.exit(130);
  });

/** Run one arm under callgrind; `drive(child)` (optional) talks to it and ends it. Resolves to the instructions executed. */
function callgrind({ node, flags, args, cwd, env, drive }) {
  const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', node, ...V8_DETERMINISTIC, ...flags, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  current = child;
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (!m) reject(new Error(`callgrind gave no count (exit ${code}): ${err.slice(-400)}`));
      else resolve(Number(m[1]));
    });
  });
  if (drive) drive(child).catch((e) => child.kill('SIGKILL') && console.error(e));
  return done;
}

/** Send `count` requests one at a time over one keep-alive connection, cycling through `paths`. */
async function requests(port, paths, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < count; i++) {
      await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: paths[i % paths.length], agent }, (res) => {
          res.resume();
          res.once('end', resolve);
        });
        req.once('error', reject);
      });
    }
  } finally {
    agent.destroy();
  }
}

const serve = (paths, count) => async (child) => {
  let text = '';
  const port = await new Promise((resolve) =>
    child.stdout.on('data', (d) => {
      text += d;
      const m = /listening on (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    }),
  );
  await requests(port, paths, count);
  child.kill('SIGTERM');
};

/** How many checks the record of the loop counted: its entries for the fixture's templates and uploads. */
function countedChecks(records, app) {
  let checks = 0;
  for (const name of readdirSync(records).filter((n) => n.endsWith('.ndjson'))) {
    for (const line of readFileSync(path.join(records, name), 'utf8').split('\n')) {
      const body = line.slice(line.indexOf('{'));
      if (!body.startsWith('{')) continue;
      const e = JSON.parse(body);
      if (e.t === 'seen' && (e.resource.startsWith(path.join(app, 'templates')) || e.resource.startsWith(path.join(app, 'uploads')))) checks += e.count;
    }
  }
  return checks;
}

export async function countInstructions({ node, major, app, records, preload, paths, checks: k, requests: r }) {
  writeFileSync(path.join(app, 'checks-loop.js'), LOOP);
  const subscriber = path.join(app, '..', 'empty-subscriber.cjs');
  writeFileSync(subscriber, EMPTY_SUBSCRIBER);
  const base = { PATH: process.env.PATH, TRAFFIC_API_SECRET: 'bench' };
  // The record is rewritten every 10 s of wall clock. Under callgrind a run lasts tens of times longer
  // than it would, so timed flushes would be counted per request many times over (a real server at
  // thousands of requests a second flushes once every tens of thousands): here it flushes at start and
  // at exit only, the same in the arm of few requests and of many, so that the difference leaves it out.
  const recordEnv = { ...base, PERMLEARN_RECORD: records, PERMLEARN_RECORD_KEY: 'bench-record-key-0123456789', PERMLEARN_RECORD_INTERVAL: '3600000' };
  const arms = {
    off: { flags: [], env: base },
    ...(major >= 24
      ? { audit: { flags: ['--permission-audit'], env: base }, subscriber: { flags: ['--permission-audit', '--require', subscriber], env: base } }
      : {}),
    on: { flags: [...(major >= 24 ? ['--permission-audit'] : []), '--require', preload], env: recordEnv },
    ...(major >= 24 ? { observe: { flags: ['--require', preload], env: recordEnv } } : {}),
  };
  const perCheck = {};
  const perRequest = {};
  let checks = 0;
  for (const [name, arm] of Object.entries(arms)) {
    rmSync(records, { recursive: true, force: true });
    const none = await callgrind({ node, ...arm, args: ['checks-loop.js', String(k / 4)], cwd: app });
    rmSync(records, { recursive: true, force: true });
    const some = await callgrind({ node, ...arm, args: ['checks-loop.js', String(k)], cwd: app });
    if (name === 'on') checks = countedChecks(records, app);
    if (name === 'observe' && countedChecks(records, app) !== checks)
      console.error(`  observe mode counted ${countedChecks(records, app)} checks, audit mode ${checks}`);
    perCheck[name] = (some - none) / (k - k / 4); // a loop turn for now; divided by its checks below
    const few = await callgrind({ node, ...arm, args: ['server.js', '0'], cwd: app, drive: serve(paths, r / 4) });
    const many = await callgrind({ node, ...arm, args: ['server.js', '0'], cwd: app, drive: serve(paths, r) });
    perRequest[name] = (many - few) / (r - r / 4);
    console.error(`  ${name}: loop ${none} / ${some}, server ${few} / ${many}`);
  }
  const perTurn = checks / k;
  const fmt = (x) => Math.round(x).toLocaleString('en-US').padStart(9);
  const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
  console.log(
    `Node ${major} (${major >= 24 ? 'audit mode' : 'observe mode'}), instructions counted by callgrind; ${k} loop turns of ${perTurn} checks, ${r} requests (mix ${paths.join(' ')})`,
  );
  console.log(`arm          per check (loop)   per request (server)`);
  for (const name of Object.keys(arms)) console.log(`${name.padEnd(12)} ${fmt(perCheck[name] / perTurn)}          ${fmt(perRequest[name])}`);
  const ref = major >= 24 ? 'audit' : 'off';
  console.log(
    `the recorder over ${ref}: ${fmt((perCheck.on - perCheck[ref]) / perTurn).trim()} instructions a check, ${fmt(perRequest.on - perRequest[ref]).trim()} a request (${pct(perRequest.on / perRequest[ref] - 1)} of ${ref}'s, ${pct(perRequest.on / perRequest.off - 1)} over plain node)`,
  );
  if (major >= 24)
    console.log(
      `observe mode instead (the preload without --permission-audit, the JS API): ${fmt((perCheck.observe - perCheck.off) / perTurn).trim()} instructions a check, ${fmt(perRequest.observe - perRequest.off).trim()} a request (${pct(perRequest.observe / perRequest.off - 1)} over plain node); audit mode alone: ${fmt((perCheck.audit - perCheck.off) / perTurn).trim()} a check (${pct(perRequest.audit / perRequest.off - 1)} a request)`,
    );
  if (major >= 24)
    console.log(
      `of which Node's publishing to a subscriber (the empty subscriber over audit): ${fmt((perCheck.subscriber - perCheck.audit) / perTurn).trim()} a check; the recorder's own code: ${fmt((perCheck.on - perCheck.subscriber) / perTurn).trim()} a check`,
    );
}

/**
 * --steady: one callgrind run per arm, the server answering requests in blocks, its counters dumped
 * (callgrind_control -d, which also zeroes them) at each mark, so that each block's instructions a
 * request are read from one process: the first blocks hold the one-time costs (first calls of each
 * path, JIT tiering, the recorder's sampled stacks at counts 64 ... 512), the last one what recurs.
 * `connections` keep-alive clients outside valgrind keep the server busy (all requests of a block
 * answered before its dump).
 */
export async function countSteady({ node, major, app, records, preload, paths, marks, arms: only, connections, keep }) {
  const subscriber = path.join(app, '..', 'empty-subscriber.cjs');
  writeFileSync(subscriber, EMPTY_SUBSCRIBER);
  const base = { PATH: process.env.PATH, TRAFFIC_API_SECRET: 'bench' };
  const recordEnv = { ...base, PERMLEARN_RECORD: records, PERMLEARN_RECORD_KEY: 'bench-record-key-0123456789', PERMLEARN_RECORD_INTERVAL: '3600000' };
  const all = {
    off: { flags: [], env: base },
    ...(major >= 24
      ? { audit: { flags: ['--permission-audit'], env: base }, subscriber: { flags: ['--permission-audit', '--require', subscriber], env: base } }
      : {}),
    on: { flags: [...(major >= 24 ? ['--permission-audit'] : []), '--require', preload], env: recordEnv },
    ...(major >= 24 ? { observe: { flags: ['--require', preload], env: recordEnv } } : {}),
  };
  const arms = Object.fromEntries((only ?? Object.keys(all)).filter((name) => all[name] !== undefined).map((name) => [name, all[name]]));
  const dumps = keep ?? path.join(app, '..', 'dumps');
  mkdirSync(dumps, { recursive: true });
  const blocks = {};
  for (const [name, arm] of Object.entries(arms)) {
    rmSync(records, { recursive: true, force: true });
    const out = path.join(dumps, `callgrind.${major}.${name}`);
    for (const f of readdirSync(dumps)) if (f.startsWith(`callgrind.${major}.${name}`)) rmSync(path.join(dumps, f));
    const started = Date.now();
    const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, node, ...V8_DETERMINISTIC, ...arm.flags, 'server.js', '0'], {
      cwd: app,
      env: arm.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = child;
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let text = '';
    const port = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        text += d;
        const m = /listening on (\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`${name}: server exited with ${code}: ${err.slice(-400)}`)));
    });
    const dumpsOf = () => readdirSync(dumps).filter((f) => /\.\d+$/.test(f) && f.startsWith(`callgrind.${major}.${name}.`)).length;
    let done = 0;
    const times = [];
    let t0 = Date.now();
    for (const mark of marks) {
      const each = Math.ceil((mark - done) / connections);
      await Promise.all(Array.from({ length: connections }, (_, c) => requestsFrom(port, paths, c, each)));
      done += each * connections;
      execFileSync('callgrind_control', ['-d', `after ${done} requests`, String(child.pid)], { stdio: 'ignore' });
      if (dumpsOf() === 0) throw new Error(`${name}: callgrind_control wrote no dump`);
      times.push(Math.round((Date.now() - t0) / 1000));
      t0 = Date.now();
    }
    child.kill('SIGTERM');
    await exited;
    const totals = [];
    const compiling = [];
    for (let i = 1; i <= marks.length; i++) {
      const m = /^totals: (\d+)$/m.exec(readFileSync(`${out}.${i}`, 'utf8'));
      totals.push(Number(m[1]));
      compiling.push(compilerInstructions(`${out}.${i}`));
    }
    let checks;
    if (name === 'on' || name === 'observe') checks = countedChecks(records, app);
    blocks[name] = { totals, compiling, checks };
    console.error(
      `  ${name}: ${totals.join(' / ')} instructions in the blocks${checks === undefined ? '' : `, ${checks} checks recorded`} (${Math.round((Date.now() - started) / 1000)} s; blocks ${times.join(' / ')} s)`,
    );
  }
  const fmt = (x) => Math.round(x).toLocaleString('en-US').padStart(9);
  const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
  const sizes = [];
  let prev = 0;
  let done = 0;
  for (const mark of marks) {
    const each = Math.ceil((mark - done) / connections) * connections;
    sizes.push([prev, prev + each]);
    prev += each;
    done += each;
  }
  console.log(
    `Node ${major} (${major >= 24 ? 'audit mode' : 'observe mode'}), instructions a request counted by callgrind in blocks of requests (${connections} connections, mix ${paths.join(' ')}); the first block includes start-up`,
  );
  console.log(`arm          ${sizes.map(([a, b]) => `${a}-${b}`.padStart(12)).join('')}`);
  for (const [name, { totals }] of Object.entries(blocks))
    console.log(`${name.padEnd(12)} ${totals.map((t, i) => fmt(t / (sizes[i][1] - sizes[i][0])).padStart(12)).join('')}`);
  console.log(`the same without V8's compilers (${COMPILERS_TEXT}), which tier the code up over tens of thousands of requests, once`);
  for (const [name, { totals, compiling }] of Object.entries(blocks))
    console.log(`${name.padEnd(12)} ${totals.map((t, i) => fmt((t - compiling[i]) / (sizes[i][1] - sizes[i][0])).padStart(12)).join('')}`);
  const lastRun = (name) => blocks[name] && (blocks[name].totals.at(-1) - blocks[name].compiling.at(-1)) / (sizes.at(-1)[1] - sizes.at(-1)[0]);
  const runs = [];
  if (lastRun('on') !== undefined && lastRun('off') !== undefined) runs.push(`recording ${pct(lastRun('on') / lastRun('off') - 1)} over plain node`);
  if (major >= 24 && lastRun('on') !== undefined && lastRun('audit') !== undefined)
    runs.push(`the recorder ${pct(lastRun('on') / lastRun('audit') - 1)} over audit alone`);
  if (major >= 24 && lastRun('audit') !== undefined && lastRun('off') !== undefined) runs.push(`audit alone ${pct(lastRun('audit') / lastRun('off') - 1)}`);
  if (major >= 24 && lastRun('subscriber') !== undefined && lastRun('audit') !== undefined)
    runs.push(`an empty subscriber ${pct(lastRun('subscriber') / lastRun('audit') - 1)} over audit`);
  if (major >= 24 && lastRun('observe') !== undefined && lastRun('off') !== undefined)
    runs.push(`observe mode ${pct(lastRun('observe') / lastRun('off') - 1)} over plain node`);
  console.log(`last block without the compilers: ${runs.join('; ')}`);
  const last = (name) => blocks[name] && blocks[name].totals.at(-1) / (sizes.at(-1)[1] - sizes.at(-1)[0]);
  const ref = major >= 24 ? 'audit' : 'off';
  const parts = [];
  if (last('on') !== undefined && last('off') !== undefined) parts.push(`recording ${pct(last('on') / last('off') - 1)} over plain node`);
  if (major >= 24 && last('on') !== undefined && last(ref) !== undefined) parts.push(`the recorder ${pct(last('on') / last(ref) - 1)} over audit alone`);
  if (major >= 24 && last('audit') !== undefined && last('off') !== undefined) parts.push(`audit alone ${pct(last('audit') / last('off') - 1)}`);
  if (major >= 24 && last('subscriber') !== undefined && last('audit') !== undefined)
    parts.push(`an empty subscriber ${pct(last('subscriber') / last('audit') - 1)} over audit`);
  if (major >= 24 && last('observe') !== undefined && last('off') !== undefined)
    parts.push(`observe mode ${pct(last('observe') / last('off') - 1)} over plain node`);
  console.log(`last block (steady state): ${parts.join('; ')}`);
  console.log(`callgrind dumps: ${dumps}`);
}

/**
 * Connection `c` of several: `count` requests one after another over its own keep-alive connection, paths
 * in turn from offset c. A request whose connection the server closed as idle (its keep-alive timeout,
 * which a server slowed down by valgrind can reach) is sent again, at most a few times.
 */
async function requestsFrom(port, paths, c, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (p) =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
        res.resume();
        res.once('end', resolve);
      });
      req.once('error', reject);
    });
  let retries = 0;
  try {
    for (let i = 0; i < count; i++) {
      try {
        await get(paths[(i + c) % paths.length]);
      } catch (err) {
        if (err.code !== 'ECONNRESET' || ++retries > 5) throw err;
        i--;
      }
    }
  } finally {
    agent.destroy();
  }
}

const COMPILERS =
  /v8::internal::(compiler|maglev|turboshaft|baseline)::|v8::internal::(Compiler|OptimizingCompileTaskExecutor|BytecodeAnalysis)|v8::internal::Zone::/;
const COMPILERS_TEXT = 'functions of v8::internal::compiler, maglev, turboshaft, baseline, Zone and Compiler';

/** The instructions (exclusive) of one callgrind dump in V8's optimizing compilers, from callgrind_annotate. */
function compilerInstructions(file) {
  const out = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  let n = 0;
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (m && COMPILERS.test(m[2])) n += Number(m[1].replaceAll(',', ''));
  }
  return n;
}
