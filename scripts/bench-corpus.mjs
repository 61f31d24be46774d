#!/usr/bin/env node
// Benchmark on real third-party tools (TypeScript, ESLint, Jest, sharp, Vite, Mocha, esbuild, webpack), not the repository's
// fixtures. Needs the network (npm ci from the registry), so it is NOT part of `npm test`.
//
// Each app under scripts/corpus/<app>/ is a package.json with exact versions, its package-lock.json, the few
// source files its tools need, and under "corpus" the tools: the permlearn arguments that learn one
// ("learn") and the Node arguments that run it after the learned flags ("verify"). The app is installed
// once with `npm ci` into the OS temp folder, keyed by a hash of its lockfile (kept between runs). Then,
// per tool and per Node line (the newest build of each):
//   1. learn on a fresh copy with a fresh HOME and TMPDIR: runs and seconds, the printed flags;
//   2. verify on a pristine copy at the same path, with exactly the printed flags, a fresh HOME and TMPDIR
//      at the same paths and no NODE_PATH;
//   3. drop each grant in turn and run the same way: a grant whose removal still exits 0 is removable.
// Prints one Markdown table.
// Usage: node scripts/bench-corpus.mjs [majors...] [apps or tools...] [-- extra permlearn options]
//   e.g. node scripts/bench-corpus.mjs 24 26 vite eslint       (default: 22 24 26, every tool)
// PERMLEARN_CLI=<path to bin/permlearn.js> measures another build (say, main's) with the same script.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const corpusDir = path.join(root, 'scripts', 'corpus');
const cli = process.env.PERMLEARN_CLI ? path.resolve(process.env.PERMLEARN_CLI) : path.join(root, 'packages', 'cli', 'bin', 'permlearn.js');
/** One run of a tool, and one whole learn (tens of runs on a loaded machine). */
const RUN_TIMEOUT_MS = 120_000;
const LEARN_TIMEOUT_MS = 30 * 60_000;

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const words = dash >= 0 ? argv.slice(0, dash) : argv;
const majors = words.filter((w) => /^\d+$/.test(w)).map(Number);
const names = words.filter((w) => !/^\d+$/.test(w));

const apps = readdirSync(corpusDir)
  .filter((a) => existsSync(path.join(corpusDir, a, 'package.json')))
  .sort()
  .map((app) => ({ app, pkg: JSON.parse(readFileSync(path.join(corpusDir, app, 'package.json'), 'utf8')) }));
const tools = apps.flatMap(({ app, pkg }) => Object.entries(pkg.corpus).map(([tool, spec]) => ({ app, tool, ...spec })));
const known = new Set([...apps.map((a) => a.app), ...tools.map((t) => t.tool)]);
const unknown = names.filter((n) => !known.has(n));
if (unknown.length) {
  console.error(`bench-corpus: no corpus app or tool named ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  process.exit(2);
}
const chosen = tools.filter((t) => names.length === 0 || names.includes(t.app) || names.includes(t.tool));
const lines = majors.length ? majors : [22, 24, 26];

/** The installed app: `npm ci` once per lockfile, in the OS temp folder, finished installs renamed into place. */
function installed(app) {
  const src = path.join(corpusDir, app);
  const hash = createHash('sha256')
    .update(readFileSync(path.join(src, 'package-lock.json')))
    .update(readFileSync(path.join(src, 'package.json')))
    .digest('hex');
  const cacheRoot = path.join(os.tmpdir(), 'permlearn-corpus');
  const dir = path.join(cacheRoot, `${app}-${hash.slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  mkdirSync(cacheRoot, { recursive: true });
  const staging = mkdtempSync(path.join(cacheRoot, `.${app}-`));
  cpSync(src, staging, { recursive: true });
  console.error(`bench-corpus: npm ci for ${app} (cached in ${dir})`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: staging, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    console.error(`bench-corpus: npm ci failed for ${app} (exit ${r.status}); the corpus needs the npm registry`);
    process.exit(1);
  }
  try {
    renameSync(staging, dir);
  } catch (e) {
    // Another run of this script finished the same install first: use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw e;
  }
  return dir;
}

/** The folders of one tool on one line: the app copy, HOME and TMPDIR, always at the same paths (the flags name them). */
function places(work, tool, major) {
  const base = path.join(work, `${tool}-${major}`);
  return { app: path.join(base, 'app'), home: path.join(base, 'home'), tmp: path.join(base, 'tmp') };
}

/** A pristine copy of the installed app and an empty HOME and TMPDIR, at the same paths as before. */
function pristine(installDir, p) {
  for (const d of [p.app, p.home, p.tmp]) rmSync(d, { recursive: true, force: true });
  cpSync(installDir, p.app, { recursive: true, verbatimSymlinks: true });
  mkdirSync(p.home, { recursive: true });
  mkdirSync(p.tmp, { recursive: true });
}

/** The process groups of the runs under way, stopped with this script. */
const running = new Set();

/** Run to the end (or the timeout); resolves the exit code (null when killed), stdout and seconds. */
function run(file, args, opts, timeoutMs = RUN_TIMEOUT_MS) {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('close', (code) => {
      running.delete(child.pid);
      clearTimeout(timer);
      resolve({ code, out, err, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

/** The environment of a verification or drop run: fresh HOME and TMPDIR, no NODE_PATH (nor NODE_OPTIONS). */
function appEnv(p) {
  const env = { ...process.env, HOME: p.home, TMPDIR: p.tmp };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  return env;
}

const rows = [];
const work = mkdtempSync(path.join(os.tmpdir(), 'permlearn-corpus-run-'));
// Stopped (Ctrl-C): the copies go too.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    for (const pid of running)
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
try {
  for (const major of lines) {
    const node = nodeBinary(major, 'latest');
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    for (const t of chosen) {
      const installDir = installed(t.app);
      const p = places(work, t.tool, major);
      pristine(installDir, p);
      const learnArgs = t.learn.map((a) => a.replaceAll('$TMPDIR', p.tmp).replaceAll('$HOME', p.home));
      const learned = await run(
        process.execPath,
        [cli, '--node', node, '--format', 'json', ...extra, ...learnArgs],
        {
          cwd: p.app,
          env: { ...appEnv(p) },
        },
        LEARN_TIMEOUT_MS,
      );
      let profile;
      try {
        profile = JSON.parse(learned.out);
      } catch {}
      const row = { major, version, tool: t.tool, runs: profile?.runs, seconds: learned.seconds, status: profile?.status ?? `exit ${learned.code}` };
      rows.push(row);
      if (!profile) {
        row.note = learned.err.trim().split('\n').pop();
        continue;
      }
      const flags = profile.flags;
      const once = async (withFlags) => {
        pristine(installDir, p);
        return run(node, [...withFlags, ...t.verify], { cwd: p.app, env: appEnv(p) });
      };
      const verify = await once(flags);
      row.verified = verify.code === 0;
      row.verifyS = verify.seconds;
      if (!row.verified) {
        row.note = (verify.err + verify.out)
          .trim()
          .split('\n')
          .filter((l) => !/SecurityWarning|trace-warnings/.test(l))
          .slice(-1)[0];
        continue;
      }
      // The enable flag is not a grant; each other flag is one.
      row.grants = flags.length - 1;
      row.removable = [];
      for (let i = 1; i < flags.length; i++) {
        const r = await once([...flags.slice(0, i), ...flags.slice(i + 1)]);
        if (r.code === 0) row.removable.push(flags[i].split(p.app).join('.').split(p.tmp).join('$TMPDIR').split(p.home).join('~'));
      }
      console.error(`bench-corpus: ${t.tool} on ${version}: ${row.runs} runs, ${row.seconds.toFixed(1)} s, verified, ${row.removable.length} removable`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\nReal tools (scripts/corpus), learned with the default options${extra.length ? ` plus ${extra.join(' ')}` : ''}, newest build of each line:\n`);
console.log('| tool | Node | runs | seconds | verified | grants | removable |\n|---|---|---|---|---|---|---|');
for (const r of rows) {
  const verified = r.verified === undefined ? r.status : r.verified ? 'yes' : `no: ${r.note ?? ''}`;
  const removable = r.removable ? `${r.removable.length}${r.removable.length ? ` (${r.removable.join(' ')})` : ''}` : '';
  console.log(
    `| ${r.tool} | ${r.version} | ${r.runs ?? ''} | ${r.seconds.toFixed(1)} | ${verified}${r.note && r.verified === undefined ? `: ${r.note}` : ''} | ${r.grants ?? ''} | ${removable} |`,
  );
}
