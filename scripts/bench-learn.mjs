#!/usr/bin/env node
// Benchmark: runs and wall time permlearn needs to learn fixtures/apps/express-service (an Express 4
// service with Ajv, yaml and semver: 300+ module files in 70+ packages, plus config reads, a log
// folder it creates, a Node child, a Worker and ES modules) under each bundled Node, with each
// strategy against the plain rerun loop. Every run starts from a fresh copy of the fixture.
// Prints a Markdown table; asserts nothing.
// Usage: node scripts/bench-learn.mjs [majors...]   (after `npm run setup`; default 20 22 24 26)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const majors = process.argv.slice(2).map(Number).filter(Boolean);
const wanted = majors.length ? majors : [20, 22, 24, 26];
const cli = path.join(root, 'packages', 'cli', 'bin', 'permlearn.js');
const fixture = path.join(root, 'fixtures', 'apps', 'express-service');

function learnOnce(major, strategy, granularity, port) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'permlearn-bench-'));
  const dir = path.join(tmp, 'express-service');
  try {
    cpSync(fixture, dir, { recursive: true, filter: (src) => !src.endsWith(`${path.sep}logs`) });
    const started = process.hrtime.bigint();
    const r = spawnSync(
      process.execPath,
      [
        cli,
        '--node',
        nodeBinary(major),
        '--strategy',
        strategy,
        '--granularity',
        granularity,
        '--max-runs',
        '5000',
        '--ready-stdout',
        '^listening on',
        '--format',
        'json',
        '-q',
        'server.js',
        '--',
        String(port),
      ],
      { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    let p = {};
    try {
      p = JSON.parse(r.stdout);
    } catch {
      // reported as a failure below
    }
    const fsFlags = p.flags?.filter((f) => f.startsWith('--allow-fs-')).length;
    return {
      node: p.node ?? `v${major}`,
      strategy,
      granularity,
      fsFlags,
      status: p.status ?? `exit ${r.status}: ${r.stderr.trim().split('\n').pop()}`,
      runs: p.runs,
      flags: p.flags?.length,
      seconds,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const rows = [];
let port = 47_900;
for (const major of wanted) {
  const fast = major >= 24 ? 'audit' : 'observe';
  // The plain loop with exact paths is the reference; then the default policy (deps) with each strategy.
  const reference = learnOnce(major, 'rerun', 'file', port++);
  rows.push(reference);
  rows.push(learnOnce(major, fast, 'file', port++));
  for (const s of major >= 24 ? ['audit', 'observe', 'rerun'] : ['observe', 'rerun']) rows.push(learnOnce(major, s, 'deps', port++));
  for (const r of rows.slice(-((major >= 24 ? 3 : 2) + 1))) r.fewer = reference.runs && r.runs ? reference.runs / r.runs : undefined;
}
console.log('\nfixtures/apps/express-service, learned with --ready-stdout, each from a fresh copy:\n');
console.log(
  '| Node | strategy | granularity | result | runs | × fewer runs than rerun/file | fs flags | all flags | wall s |\n|---|---|---|---|---|---|---|---|---|',
);
for (const r of rows) {
  const fewer = r.fewer === undefined || (r.strategy === 'rerun' && r.granularity === 'file') ? '' : `${r.fewer.toFixed(0)}×`;
  console.log(
    `| ${r.node} | ${r.strategy} | ${r.granularity} | ${r.status} | ${r.runs ?? ''} | ${fewer} | ${r.fsFlags ?? ''} | ${r.flags ?? ''} | ${r.seconds.toFixed(1)} |`,
  );
}
