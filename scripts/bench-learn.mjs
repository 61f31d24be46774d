#!/usr/bin/env node
// Benchmark: how many runs and how long permlearn takes to learn a real dependency tree (an Express 4
// server, installed from npm into a temp dir) under each bundled Node and strategy. Prints a table;
// asserts nothing. Usage: node scripts/bench-learn.mjs [majors...]   (after `npm run setup`)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const majors = process.argv.slice(2).map(Number).filter(Boolean);
const wanted = majors.length ? majors : [20, 22, 24, 26];
const cli = path.join(root, 'packages', 'cli', 'bin', 'permlearn.js');

const dir = mkdtempSync(path.join(os.tmpdir(), 'permlearn-bench-'));
try {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', 'express@4'], { cwd: dir, stdio: 'inherit' });
  writeFileSync(
    path.join(dir, 'app.js'),
    "const express = require('express');\nconst app = express();\napp.get('/', (req, res) => res.send('hi'));\napp.listen(Number(process.argv[2]), () => console.log('up'));\n",
  );
  const rows = [];
  let port = 47_900;
  for (const major of wanted) {
    for (const strategy of major >= 24 ? ['audit', 'observe', 'rerun'] : ['observe', 'rerun']) {
      const started = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [cli, '--node', nodeBinary(major), '--strategy', strategy, '--ready-port', String(port), '--format', 'json', '-q', 'app.js', '--', String(port)], {
        cwd: dir,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      port++;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let p = {};
      try {
        p = JSON.parse(r.stdout);
      } catch {
        // reported below as a failure
      }
      rows.push({ node: p.node ?? `v${major}`, strategy, status: p.status ?? `exit ${r.status}`, runs: p.runs, flags: p.flags?.length, seconds: seconds.toFixed(1) });
    }
  }
  console.log('\nExpress 4 server (`require("express")` + listen), learned with --ready-port:\n');
  console.log('| Node | strategy | result | runs | flags | wall s |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.node} | ${r.strategy} | ${r.status} | ${r.runs} | ${r.flags} | ${r.seconds} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
