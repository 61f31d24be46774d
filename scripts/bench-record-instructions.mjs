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
import { spawn } from 'node:child_process';
import http from 'node:http';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const V8_DETERMINISTIC = ['--single-threaded', '--hash-seed=1', '--random-seed=1'];

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
