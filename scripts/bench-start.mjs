#!/usr/bin/env node
// Benchmark: permlearn's own start, this checkout's against another's, taking turns. For `--version`,
// `--help` and a learn of a tiny fixture (scopes/read-config, from a fresh copy each time) it prints the
// median CPU time (user + sys, the CLI and everything it started) and the median wall time of each build.
// CPU time is what to compare: on a shared machine the wall time mostly measures the neighbours.
// The times come from bash's `time` (getrusage of the finished child, microseconds), so this needs bash.
// Usage: node scripts/bench-start.mjs --baseline DIR [--runs N] [--node MAJOR]
//        DIR: another built checkout (its packages/cli/bin/permlearn.js); without it, this build alone.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
};
const baseline = option('--baseline');
const runs = Number(option('--runs', '15'));
const major = Number(option('--node', '26'));
const cliOf = (checkout) => path.join(checkout, 'packages', 'cli', 'bin', 'permlearn.js');
const builds = [{ name: 'this', cli: cliOf(root) }];
if (baseline !== undefined) {
  if (!existsSync(cliOf(baseline))) {
    console.error(`bench-start: --baseline ${baseline} has no ${path.relative(baseline, cliOf(baseline))} (a built permlearn checkout)`);
    process.exit(2);
  }
  builds.unshift({ name: 'baseline', cli: cliOf(path.resolve(baseline)) });
}

const FIXTURE = path.join(root, 'fixtures', 'scopes', 'read-config');
const CASES = [
  { name: '--version', args: () => ['--version'] },
  { name: '--help', args: () => ['--help'] },
  { name: 'learn read-config', learn: true, args: () => ['--node', nodeBinary(major), '--format', 'json', '-q', 'index.js'] },
];

/** One timed run of `cli args` in `cwd`: CPU seconds (user + sys of it and its children) and wall seconds. */
function timed(cli, args, cwd) {
  const quoted = [process.execPath, cli, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S %3R'; time ${quoted} >/dev/null 2>&1`], {
    cwd,
    encoding: 'utf8',
  });
  const [user, sys, real] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  if (r.status !== 0) throw new Error(`bench-start: ${args.join(' ')} exited ${r.status} in ${cwd}`);
  return { cpu: user + sys, wall: real };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = new Map(CASES.map((c) => [c.name, new Map(builds.map((b) => [b.name, { cpu: [], wall: [] }]))]));
for (let i = 0; i < runs; i++) {
  for (const c of CASES) {
    // The builds take turns going first, so that neither always meets the same load.
    const order = i % 2 ? [...builds].reverse() : builds;
    for (const b of order) {
      let tmp;
      let cwd = root;
      if (c.learn) {
        tmp = mkdtempSync(path.join(os.tmpdir(), 'permlearn-start-'));
        cwd = path.join(tmp, 'read-config');
        cpSync(FIXTURE, cwd, { recursive: true });
      }
      try {
        const t = timed(b.cli, c.args(), cwd);
        results.get(c.name).get(b.name).cpu.push(t.cpu);
        results.get(c.name).get(b.name).wall.push(t.wall);
      } finally {
        if (tmp) rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
}

const ms = (s) => `${Math.round(s * 1000)}`;
console.log(`permlearn's start, median of ${runs} runs each (ms; CPU = user + sys; the learn runs the app on Node ${major})`);
console.log(`| case | ${builds.map((b) => `${b.name} CPU | ${b.name} wall`).join(' | ')} |${baseline ? ' CPU this/baseline |' : ''}`);
console.log(`| --- |${builds.map(() => ' ---: | ---: |').join('')}${baseline ? ' ---: |' : ''}`);
for (const c of CASES) {
  const per = builds.map((b) => results.get(c.name).get(b.name));
  const cells = per.map((r) => `${ms(median(r.cpu))} | ${ms(median(r.wall))}`).join(' | ');
  const ratio = baseline ? ` ${(median(per[1].cpu) / median(per[0].cpu)).toFixed(2)} |` : '';
  console.log(`| ${c.name} | ${cells} |${ratio}`);
}
