#!/usr/bin/env node
// Benchmark: how tight and how fast learning is on the repository's own app fixtures, per Node line.
// For each fixture: learn it with the default options from a fresh copy (runs, wall time); time one
// verification run with exactly the learned flags; then drop each learned grant in turn and run the
// app from another fresh copy with the rest: a grant whose removal still passes, printing the same (numbers
// aside), is removable; one whose removal passes but changes what the app prints is counted apart, kept.
// Prints a Markdown table and the medians; ratios, not seconds, are what to compare across machines.
// The verification run is timed three times (the median counts) and, like a learning run, until the app's
// process is gone: for a server, readiness, the 300 ms permlearn watches it, then SIGKILL and its exit.
// `--baseline DIR`: also learn each fixture with the permlearn of another checkout (built), alternately
// with this one, and print its ratio beside; `--time-only`: skip the removable-grant trials.
// Usage: node scripts/bench-tight.mjs [majors...] [--baseline DIR] [--time-only] [-- extra permlearn options]
//        (default 22 24 26)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const at = own.indexOf('--baseline');
const baseline = at >= 0 ? own.splice(at, 2)[1] : undefined;
const timeOnly = own.includes('--time-only');
const majors = own
  .filter((a) => a !== '--time-only')
  .map(Number)
  .filter(Boolean);
const wanted = majors.length ? majors : [22, 24, 26];
const cliOf = (checkout) => path.join(checkout, 'packages', 'cli', 'bin', 'permlearn.js');
const cli = cliOf(root);
if (baseline !== undefined && !existsSync(cliOf(baseline))) {
  console.error(`bench-tight: --baseline ${baseline} has no ${path.relative(baseline, cliOf(baseline))} (a built permlearn checkout)`);
  process.exit(2);
}

/** The app fixtures: entry, arguments, and for a server the stdout line that says it is ready. */
const FIXTURES = [
  { dir: 'apps/express-service', entry: 'server.js', args: ['0'], ready: /^listening on/m },
  { dir: 'apps/serve-static', entry: 'server.js', args: ['0'], ready: /^listening on/m },
  { dir: 'apps/with-secrets', entry: 'index.js', args: [] },
  { dir: 'deps/cjs-app', entry: 'index.js', args: [] },
  { dir: 'deps/esm-app', entry: 'main.mjs', args: [] },
  { dir: 'scopes/read-config', entry: 'index.js', args: [] },
  { dir: 'scopes/write-log', entry: 'index.js', args: [] },
  { dir: 'scopes/worker', entry: 'index.js', args: [] },
  { dir: 'scopes/http-server', entry: 'server.js', args: ['0'], ready: /^listening on/m },
  { dir: 'caught/optional-read', entry: 'index.js', args: [] },
  { dir: 'release/tiny-app', entry: 'app.js', args: [] },
];

/** A fresh copy of a fixture (without what earlier runs left in it), in a fresh folder. */
function pristine(fixture) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'permlearn-tight-'));
  const dir = path.join(tmp, path.basename(fixture.dir));
  const src = path.join(root, 'fixtures', fixture.dir);
  cpSync(src, dir, { recursive: true, verbatimSymlinks: true, filter: (s) => !/[/\\](logs|out)$/.test(s) && !s.endsWith('cache.json') });
  return { tmp, dir };
}

/**
 * One run of the app with exactly `flags` (relative paths in them are the copy's); resolves pass/fail and
 * seconds. `elsewhere`: started from an empty folder outside the copy (the entry by its absolute path),
 * where the cwd subtree that 22+ let a Worker read without a grant holds nothing of the app.
 */
function runWith(major, fixture, flags, learnedDir, { elsewhere = false } = {}) {
  const { tmp, dir } = pristine(fixture);
  const moved = flags.map((f) => f.split(learnedDir).join(dir));
  const cwd = elsewhere ? mkdtempSync(path.join(tmp, 'cwd-')) : dir;
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(nodeBinary(major), [...moved, elsewhere ? path.join(dir, fixture.entry) : fixture.entry, ...fixture.args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: process.env.HOME },
    });
    let out = '';
    let settled = false;
    const finish = (pass) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const done = () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        rmSync(tmp, { recursive: true, force: true });
        resolve({ pass, seconds, out: shape(out) });
      };
      // Timed until the process is gone, as permlearn's runs are.
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGKILL');
    };
    // As permlearn does: a server counts as started when it says so and stays up a moment after.
    child.stdout.on('data', (b) => {
      out += b;
      if (fixture.ready?.test(out)) setTimeout(() => finish(child.exitCode === null), 300);
    });
    child.stderr.resume();
    child.on('exit', (code) => finish(!fixture.ready && code === 0));
    const timer = setTimeout(() => finish(false), 20_000);
  });
}

/** What the app printed, numbers left out (a server's port, a count of milliseconds). */
function shape(out) {
  return out.replace(/\d+/g, 'N');
}

function learn(major, fixture, bin = cli) {
  const { tmp, dir } = pristine(fixture);
  const ready = fixture.ready ? ['--ready-stdout', fixture.ready.source.replace(/^\^/, '^')] : [];
  const started = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [bin, '--node', nodeBinary(major), ...ready, '--format', 'json', '-q', ...extra, fixture.entry, '--', ...fixture.args],
    { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let profile;
  try {
    profile = JSON.parse(r.stdout);
  } catch {
    profile = undefined;
  }
  return { tmp, dir, seconds, profile, error: profile ? undefined : `exit ${r.status}: ${r.stderr.trim().split('\n').pop()}` };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rows = [];
let turn = 0;
for (const major of wanted) {
  for (const fixture of FIXTURES) {
    // With a baseline, the two builds take turns going first, so that neither always meets the same load.
    const first = baseline !== undefined && turn++ % 2 === 1 ? learn(major, fixture, cliOf(baseline)) : undefined;
    if (first) rmSync(first.tmp, { recursive: true, force: true });
    const learned = learn(major, fixture);
    try {
      if (!learned.profile || learned.profile.status !== 'verified') {
        rows.push({ major, fixture: fixture.dir, status: learned.profile?.status ?? learned.error });
        continue;
      }
      const flags = learned.profile.flags;
      // The baseline learns right before or after, under much the same load; then the verification run, three times.
      const before = baseline === undefined ? undefined : (first ?? learn(major, fixture, cliOf(baseline)));
      if (before) rmSync(before.tmp, { recursive: true, force: true });
      const verifies = [];
      for (let i = 0; i < 3; i++) verifies.push(await runWith(major, fixture, flags, learned.dir));
      const verify = { pass: verifies.every((v) => v.pass), seconds: median(verifies.map((v) => v.seconds)) };
      // The enable flag is not a grant; every other flag (one grant, or a comma list for 20) is.
      const grants = flags.slice(1);
      const removable = [];
      // Removable only through a Node leak: a Worker reads the cwd subtree without a grant (22+; the main
      // thread and Node children cannot). Started from outside the copy, the app passes with the grant and
      // fails without it: the profile keeps it, as it must not lean on the leak (docs/decisions.md).
      const leak = [];
      // The app passes without it but prints something else (its defaults instead of an override file's
      // settings): not a grant it can do without (model/tighten.ts readsProjectContent).
      const changes = [];
      for (const g of timeOnly ? [] : grants) {
        const without = flags.filter((f) => f !== g);
        const trial = await runWith(major, fixture, without, learned.dir);
        if (!trial.pass) continue;
        const name = g.split(learned.dir).join('.');
        if (trial.out !== verifies[0].out) {
          changes.push(name);
          continue;
        }
        const leans =
          major >= 22 &&
          (await runWith(major, fixture, flags, learned.dir, { elsewhere: true })).pass &&
          !(await runWith(major, fixture, without, learned.dir, { elsewhere: true })).pass;
        (leans ? leak : removable).push(name);
      }
      rows.push({
        major,
        fixture: fixture.dir,
        status: verify.pass ? 'verified' : 'verify failed',
        runs: learned.profile.runs,
        grants: grants.length,
        removable,
        leak,
        changes,
        learnS: learned.seconds,
        verifyS: verify.seconds,
        ...(before?.profile ? { baselineS: before.seconds, baselineRuns: before.profile.runs } : {}),
      });
    } finally {
      rmSync(learned.tmp, { recursive: true, force: true });
    }
  }
}

console.log(`\nApp fixtures learned with the default options${extra.length ? ` plus ${extra.join(' ')}` : ''}, each from a fresh copy:\n`);
const vs = baseline === undefined ? '' : ' (baseline)';
console.log(
  `| Node | fixture | result | runs | grants | removable | needed only where a Worker cannot read the cwd (kept) | passes without, prints otherwise (kept) | verification run (s) | learning ÷ one verification run${vs} |\n|---|---|---|---|---|---|---|---|---|---|`,
);
const list = (xs) => (timeOnly ? 'not tried' : xs ? `${xs.length}${xs.length ? ` (${xs.join(' ')})` : ''}` : '');
const ratioOf = (r) => (r.learnS && r.verifyS ? (r.learnS / r.verifyS).toFixed(1) : '');
const baselineOf = (r) => (r.baselineS && r.verifyS ? ` (${(r.baselineS / r.verifyS).toFixed(1)})` : '');
for (const r of rows) {
  console.log(
    `| ${r.major} | ${r.fixture} | ${r.status} | ${r.runs ?? ''} | ${r.grants ?? ''} | ${list(r.removable)} | ${list(r.leak)} | ${list(r.changes)} | ${r.verifyS?.toFixed(2) ?? ''} | ${ratioOf(r)}${baselineOf(r)} |`,
  );
}
console.log(
  `\n| Node | median runs | most runs | removable grants (all fixtures) | kept for a Worker (the cwd leak) | kept, passes but prints otherwise | learning ÷ verification (all fixtures)${vs} |\n|---|---|---|---|---|---|---|`,
);
for (const major of wanted) {
  const mine = rows.filter((r) => r.major === major && r.runs !== undefined);
  const learnS = mine.reduce((a, r) => a + r.learnS, 0);
  const verifyS = mine.reduce((a, r) => a + r.verifyS, 0);
  const runs = mine.map((r) => r.runs);
  const sum = (k) => mine.reduce((a, r) => a + r[k].length, 0);
  const withBase = mine.filter((r) => r.baselineS !== undefined);
  const base = withBase.length
    ? ` (${(withBase.reduce((a, r) => a + r.baselineS, 0) / withBase.reduce((a, r) => a + r.verifyS, 0)).toFixed(2)} over ${withBase.length})`
    : '';
  const removed = timeOnly ? 'not tried' : sum('removable');
  console.log(
    `| ${major} | ${median(runs)} | ${Math.max(...runs)} | ${removed} | ${timeOnly ? 'not tried' : sum('leak')} | ${timeOnly ? 'not tried' : sum('changes')} | ${(learnS / verifyS).toFixed(2)}${base} |`,
  );
}
