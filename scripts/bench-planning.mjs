#!/usr/bin/env node
// Benchmark: how grant planning scales with the number of distinct paths (`--granularity file`).
// Feeds N synthetic file reads through the core's learn() with a fake runApp, no processes, in two
// shapes: an audit run that reports every read at once (priming), and an enforce run that started
// cleanly with every read caught (the learn loop). Prints planning time for each size and the ratio
// to the size before: about 10× per decade is linear, 100× quadratic. Asserts nothing.
// With `--against <dist>` (another build's packages/core/dist, e.g. an older commit's), each size is
// also timed on that build, the two alternating in the same process, with the ratio between them.
// Each time is wall-clock seconds, with the process's CPU seconds (user + system) in brackets.
// Usage: node scripts/bench-planning.mjs [--against <dist>] [sizes...]   (after `npm run build`;
// default sizes 1000 10000 100000)
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './setup.mjs';

const args = process.argv.slice(2);
const againstAt = args.indexOf('--against');
const against = againstAt === -1 ? undefined : path.resolve(args.splice(againstAt, 2)[1] ?? '');
const load = async (dist) => import(pathToFileURL(path.join(dist, 'index.js')).href);
const builds = [{ name: 'this', core: await load(path.join(root, 'packages', 'core', 'dist')) }];
if (against) builds.push({ name: 'against', core: await load(against) });
const sizes = args.map(Number).filter((n) => n > 0);
const wanted = sizes.length ? sizes : [1000, 10_000, 100_000];
const APP = '/srv/app';

/** N files spread over folders of 50, as a project's sources and node_modules would be. */
function filesOf(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(`${APP}/node_modules/pkg${Math.floor(i / 500)}/lib/d${Math.floor(i / 50) % 10}/f${i}.js`);
  return out;
}

function fakeFs(files) {
  const set = new Set(files);
  return { homedir: '/home/u', kind: (p) => (set.has(p) ? 'file' : p.startsWith(APP) && !path.extname(p) ? 'dir' : 'missing') };
}

const read = (file, source) => ({
  permission: 'FileSystemRead',
  resource: file,
  code: 'ERR_ACCESS_DENIED',
  source,
  cwd: APP,
  thread: 'main',
  site: `${APP}/index.js:1:1`,
});
const result = (extra) => ({ outcome: 'exited', exitCode: 0, denials: [], recorderLoaded: true, stderrDenials: [], stderrTail: '', durationMs: 1, ...extra });

/** The CPU seconds (user and system) of the last timing: on a shared machine they vary less than the wall time. */
let lastCpu = 0;

async function time(core, shape, n) {
  const { learn, learnStrategy, capabilitiesOf, parseNodeVersion } = core;
  const files = filesOf(n);
  const runApp = async (req) => {
    if (shape === 'audit' && req.phase === 'audit') return result({ denials: files.map((f) => read(f, 'channel')) });
    if (shape === 'caught' && req.run === 1) return result({ denials: files.map((f) => read(f, 'caught')) });
    return result({});
  };
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const res = await learn({
    runApp,
    caps: capabilitiesOf(parseNodeVersion('v26.10.0')),
    fs: fakeFs(files),
    maxRuns: 10,
    ...(shape === 'audit' ? { strategy: learnStrategy('audit') } : {}),
    generalise: { granularity: 'file', root: APP, tmpdir: '/tmp' },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  lastCpu = (cpu.user + cpu.system) / 1e6;
  if (res.status !== 'verified' || res.grants.length !== n) throw new Error(`${shape} ${n}: ${res.status} with ${res.grants.length} grants`);
  return seconds;
}

const head =
  builds.length === 1
    ? '| shape | paths | planning s (CPU s) | × previous size |'
    : '| shape | paths | this build s (CPU s) | × previous size | against s (CPU s) | against / this (wall) |';
console.log(`${head}\n|${'---|'.repeat(head.split('|').length - 2)}`);
for (const shape of ['audit', 'caught']) {
  const previous = {};
  for (const n of wanted) {
    const cells = [];
    const took = {};
    for (const b of builds) {
      const s = await time(b.core, shape, n);
      took[b.name] = s;
      cells.push(`${s.toFixed(3)} (${lastCpu.toFixed(3)})`, previous[b.name] === undefined ? '' : `${(s / previous[b.name]).toFixed(1)}×`);
      previous[b.name] = s;
    }
    if (against) cells.splice(3, 1); // the against column's per-decade ratio is left out to keep the table narrow
    if (against) cells.push(`${(took.against / took.this).toFixed(2)}×`);
    console.log(`| ${shape} | ${n} | ${cells.join(' | ')} |`);
  }
}
