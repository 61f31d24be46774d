#!/usr/bin/env node
// Benchmark: runs to a verified profile for the fixtures whose denials Node 22 and 24 hide (issue 13:
// an addon behind a loader with a WASM fallback, a logger transport in a Worker, a WASI loader in a
// Worker and a child, as CommonJS and as ES modules; Node children: forked test workers, a parent
// that rebuilds its child's execArgv by hand and as @jsenv/core does, a child spawned with its own
// env), on the pinned and the newest build of each Node line, side by side. Each is learned from a
// fresh copy with the default options and the fixture's granularity; a cell is the run count
// (verification included), or the status when learning did not verify. Prints a Markdown table and
// whether every line stays within 26's count plus two (the issue's bound). Asserts nothing.
// Usage: node scripts/bench-hidden.mjs [majors...] [fixture names...]   (default 22 24 26, every fixture)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const majors = process.argv.slice(2).map(Number).filter(Boolean);
const names = process.argv.slice(2).filter((a) => !Number(a));
const wanted = majors.length ? majors : [22, 24, 26];
const cli = path.join(root, 'packages', 'cli', 'bin', 'permlearn.js');

const ALL = [
  { dir: 'apps/addon-loader', entry: 'index.js', granularity: 'file' },
  { dir: 'apps/logger-worker', entry: 'index.js', granularity: 'deps' },
  { dir: 'apps/wasi-loader', entry: 'index.js', granularity: 'file' },
  { dir: 'apps/wasi-loader-esm', entry: 'index.js', granularity: 'file' },
  { dir: 'apps/test-runner-fork', entry: 'index.js', granularity: 'deps' },
  { dir: 'apps/rebuilt-execargv', entry: 'index.js', granularity: 'deps' },
  { dir: 'apps/jsenv-execute', entry: 'index.js', granularity: 'deps' },
  { dir: 'apps/spawn-own-env', entry: 'index.js', granularity: 'file' },
];
const FIXTURES = names.length ? ALL.filter((f) => names.includes(path.basename(f.dir))) : ALL;
if (FIXTURES.length === 0) {
  console.error(`bench-hidden: no fixture named ${names.join(', ')} (known: ${ALL.map((f) => path.basename(f.dir)).join(', ')})`);
  process.exit(2);
}
const BUILDS = ['pinned', 'latest'];

function learn(major, which, fixture) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'permlearn-hidden-'));
  const dir = path.join(tmp, path.basename(fixture.dir));
  cpSync(path.join(root, 'fixtures', fixture.dir), dir, { recursive: true, verbatimSymlinks: true, filter: (s) => !/[/\\]logs$/.test(s) });
  const node = nodeBinary(major, which);
  const r = spawnSync(process.execPath, [cli, '--node', node, '--granularity', fixture.granularity, '--format', 'json', '-q', fixture.entry], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  rmSync(tmp, { recursive: true, force: true });
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  try {
    const profile = JSON.parse(r.stdout);
    return { version, runs: profile.runs, verified: profile.verified === true };
  } catch {
    return { version, runs: undefined, verified: false, status: `exit ${r.status}` };
  }
}

const results = new Map();
const versions = new Map();
for (const fixture of FIXTURES) {
  for (const major of wanted) {
    for (const which of BUILDS) {
      const r = learn(major, which, fixture);
      versions.set(`${major} ${which}`, r.version);
      results.set(`${fixture.dir} ${major} ${which}`, r);
      process.stderr.write(`${fixture.dir} on ${r.version}: ${r.verified ? `${r.runs} runs` : (r.status ?? 'not verified')}\n`);
    }
  }
}

const columns = wanted.flatMap((m) => BUILDS.map((w) => `${m} ${w}`));
console.log(`| fixture | ${columns.map((c) => versions.get(c)).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---').join('|')}|`);
let within = true;
for (const fixture of FIXTURES) {
  const cells = columns.map((c) => {
    const r = results.get(`${fixture.dir} ${c}`);
    return r.verified ? String(r.runs) : `${r.status ?? 'not verified'}`;
  });
  console.log(`| ${fixture.dir} | ${cells.join(' | ')} |`);
  for (const which of BUILDS) {
    const on26 = results.get(`${fixture.dir} 26 ${which}`);
    if (!on26?.verified) continue;
    for (const major of wanted) {
      const r = results.get(`${fixture.dir} ${major} ${which}`);
      if (!r.verified || r.runs > on26.runs + 2) within = false;
    }
  }
}
console.log(`\nevery line verified within 26's runs + 2: ${within ? 'yes' : 'NO'}`);
