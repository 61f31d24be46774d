#!/usr/bin/env node
// Benchmark: what the recorder costs an app's start. Times fixtures/apps/express-service from spawn
// to its "listening" line under each bundled Node with the same grants: without the recorder, with
// the recorder of the learning runs, and with the observe run's recorder (modules, fs reads, child
// processes; used for one run only). Alternating, many rounds, median. Prints figures; asserts nothing.
// Usage: ROUNDS=25 node scripts/bench-recorder.mjs [majors...]
// RECORDER_SOURCE=<file> times another recorder source (an older one, to compare).
// --instructions: count instead of time (valgrind's callgrind, V8 made deterministic, the app's Node
// child included; one run per arm, ROUNDS ignored), so that other work on a shared machine does not
// move the figures. A start's instructions, not its milliseconds: the ratio is what compares.
// BASELINE=<folder> adds two arms, the learning and observe recorders bundled from an older copy of
// packages/core/recorder in that folder (`git archive <commit> packages/core/recorder | tar -x -C dir`),
// so that before and after are counted in the same run. ARMS=without,learning,observe,base-learning,
// base-observe picks the arms (all by default; the base ones only with BASELINE). PER_PROCESS=1 prints
// each process's count (the app with its Worker, then its Node child) to stderr.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const { recorderText } = await import('../packages/core/dist/runner/session.js');
const { createKeys, keyPipeText } = await import('../packages/core/dist/runner/evidence.js');
const rounds = Number(process.env.ROUNDS ?? 25);
const counting = process.argv.includes('--instructions');
const baseline = process.env.BASELINE ? path.resolve(process.env.BASELINE) : undefined;
const arms = (process.env.ARMS ?? `without,learning,observe${baseline ? ',base-learning,base-observe' : ''}`).split(',');
const majors = process.argv.slice(2).map(Number).filter(Boolean);
const wanted = majors.length ? majors : [20, 22, 24, 26];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'permlearn-bench-'));
const dir = path.join(tmp, 'express-service');
cpSync(path.join(root, 'fixtures', 'apps', 'express-service'), dir, { recursive: true });
const recorder = path.join(tmp, 'recorder.cjs');
const observer = path.join(tmp, 'observer.cjs');
// The folder the app's Node children write their reports to, as in a learning session: without it a
// child's recorder finds no channel and stops at once (before it loads crypto to sign its lines).
const events = path.join(tmp, 'events');
mkdirSync(events);
const text = (config) =>
  process.env.RECORDER_SOURCE
    ? `const PERMLEARN_CONFIG = ${JSON.stringify(config)};\n${readFileSync(process.env.RECORDER_SOURCE, 'utf8')}`
    : recorderText(config);
writeFileSync(recorder, text({ fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events }));
writeFileSync(observer, text({ fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events, observe: true }));
/** The recorder bundled from an older copy of its folder, the way runner/session.ts bundles it (a built
 *  bundle in that folder, when the copy has one, else its parts as a table of functions). */
function baselineText(config) {
  const dir = ['packages/core/recorder', 'recorder', '.']
    .map((d) => path.join(baseline, d))
    .find((d) => {
      try {
        return readdirSync(d).includes('recorder.cjs');
      } catch {
        return false;
      }
    });
  if (!dir) throw new Error(`BASELINE: no recorder.cjs under ${baseline}`);
  const names = readdirSync(dir).filter((n) => n.endsWith('.cjs') && !n.startsWith('record'));
  const parts = ['recorder.cjs', ...names]
    .map((n) => `  ${JSON.stringify('./' + n)}: function (module, exports, require) {\n${readFileSync(path.join(dir, n), 'utf8')}\n  },\n`)
    .join('');
  return `const PERMLEARN_CONFIG = ${JSON.stringify(config)};
(function permlearnBundle(nodeRequire, Module) {
  const parts = {
${parts}  };
  const loaded = Object.create(null);
  function load(name) {
    if (name === 'module') return Module;
    if (!Object.prototype.hasOwnProperty.call(parts, name)) return nodeRequire(name);
    if (loaded[name]) return loaded[name].exports;
    const module = { exports: {} };
    loaded[name] = module;
    parts[name](module, module.exports, load);
    return module.exports;
  }
  load('./recorder.cjs');
})(require, module.constructor);
`;
}
const baseRecorder = path.join(tmp, 'base-recorder.cjs');
const baseObserver = path.join(tmp, 'base-observer.cjs');
if (baseline) {
  writeFileSync(baseRecorder, baselineText({ fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events }));
  writeFileSync(baseObserver, baselineText({ fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events, observe: true }));
}
// The recorder reads the run's key from fd 4 (here a file holding it), as permlearn's pipe gives it.
const keyFile = path.join(tmp, 'key');
writeFileSync(keyFile, keyPipeText(createKeys()));

/** Milliseconds from spawn to the "listening" line; the server is then killed. */
function startTime(major, args) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(nodeBinary(major), [...args, 'server.js', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore', 'pipe', openSync(keyFile, 'r')] });
    child.stdio[3].resume();
    let done = false;
    child.stdout.on('data', (d) => {
      if (done || !String(d).includes('listening')) return;
      done = true;
      resolve(Number(process.hrtime.bigint() - t) / 1e6);
      child.kill('SIGKILL');
    });
    child.once('exit', (code) => (done ? undefined : reject(new Error(`node ${major} exited ${code} before listening`))));
  });
}

/**
 * Instructions from start to the "listening" line under callgrind (every process: the app, its
 * Workers' threads, its Node child); the server is then ended with SIGTERM so callgrind reports.
 */
function instructions(major, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--callgrind-out-file=/dev/null',
        '--trace-children=yes',
        nodeBinary(major),
        '--single-threaded',
        '--hash-seed=1',
        '--random-seed=1',
        ...args,
        'server.js',
        '0',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')] },
    );
    child.stdio[3].resume();
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let listening = false;
    child.stdout.on('data', (d) => {
      if (listening || !String(d).includes('listening')) return;
      listening = true;
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      const counts = [...err.matchAll(/Collected : (\d+)/g)].map((m) => Number(m[1]));
      if (!listening || counts.length === 0) reject(new Error(`node ${major} under callgrind (exit ${code}): ${err.slice(-400)}`));
      else {
        if (process.env.PER_PROCESS) console.error(`  ${major} ${path.basename(args.at(-1))}: ${counts.map((n) => (n / 1e6).toFixed(1)).join(' + ')}`);
        resolve(counts.reduce((a, b) => a + b, 0));
      }
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (b, a) => `${(((b - a) / a) * 100).toFixed(1)} %`;
try {
  const unit = counting ? 'M instructions' : 'ms';
  console.log(
    counting
      ? `\nfixtures/apps/express-service start to "listening", instructions (callgrind, millions):\n`
      : `\nfixtures/apps/express-service start to "listening", median of ${rounds} runs each:\n`,
  );
  console.log(`| Node | without recorder ${unit} | learning recorder ${unit} | overhead | observe recorder ${unit} | overhead |\n|---|---|---|---|---|---|`);
  for (const major of wanted) {
    const enable = major === 20 ? '--experimental-permission' : '--permission';
    const grants = [
      enable,
      `--allow-fs-read=${tmp}`,
      `--allow-fs-write=${tmp}`,
      '--allow-child-process',
      '--allow-worker',
      ...(major >= 26 ? ['--allow-net'] : []),
    ];
    const plain = [];
    const learning = [];
    const observing = [];
    if (counting) {
      // An arm left out of ARMS prints as NaN.
      const count = async (arm, args) => (arms.includes(arm) ? (await instructions(major, args)) / 1e6 : NaN);
      const a = await count('without', grants);
      const b = await count('learning', [...grants, '--require', recorder]);
      const c = await count('observe', [...grants, '--require', observer]);
      console.log(`| ${major} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${pct(b, a)} | ${c.toFixed(1)} | ${pct(c, a)} |`);
      if (baseline) {
        const d = await count('base-learning', [...grants, '--require', baseRecorder]);
        const e = await count('base-observe', [...grants, '--require', baseObserver]);
        console.log(`| ${major} (baseline) | | ${d.toFixed(1)} | ${pct(d, a)} | ${e.toFixed(1)} | ${pct(e, a)} |`);
      }
      continue;
    }
    for (let i = 0; i < rounds; i++) {
      plain.push(await startTime(major, grants));
      learning.push(await startTime(major, [...grants, '--require', recorder]));
      observing.push(await startTime(major, [...grants, '--require', observer]));
    }
    const [a, b, c] = [median(plain), median(learning), median(observing)];
    console.log(`| ${major} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${pct(b, a)} | ${c.toFixed(1)} | ${pct(c, a)} |`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
