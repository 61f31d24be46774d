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
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const { recorderText } = await import('../packages/core/dist/runner/session.js');
const { createKeys, keyPipeText } = await import('../packages/core/dist/runner/evidence.js');
const rounds = Number(process.env.ROUNDS ?? 25);
const counting = process.argv.includes('--instructions');
const majors = process.argv.slice(2).map(Number).filter(Boolean);
const wanted = majors.length ? majors : [20, 22, 24, 26];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'permlearn-bench-'));
const dir = path.join(tmp, 'express-service');
cpSync(path.join(root, 'fixtures', 'apps', 'express-service'), dir, { recursive: true });
const recorder = path.join(tmp, 'recorder.cjs');
const observer = path.join(tmp, 'observer.cjs');
const events = path.join(tmp, 'events');
const text = (config) =>
  process.env.RECORDER_SOURCE
    ? `const PERMLEARN_CONFIG = ${JSON.stringify(config)};\n${readFileSync(process.env.RECORDER_SOURCE, 'utf8')}`
    : recorderText(config);
writeFileSync(recorder, text({ fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events }));
writeFileSync(observer, text({ fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events, observe: true }));
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
      else resolve(counts.reduce((a, b) => a + b, 0));
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
      const [a, b, c] = [
        await instructions(major, grants),
        await instructions(major, [...grants, '--require', recorder]),
        await instructions(major, [...grants, '--require', observer]),
      ].map((n) => n / 1e6);
      console.log(`| ${major} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${pct(b, a)} | ${c.toFixed(1)} | ${pct(c, a)} |`);
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
