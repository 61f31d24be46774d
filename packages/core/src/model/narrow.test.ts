// Scripted learns (no Node process: the runs' results are given) of a folder granted for checks of its
// own path: narrowed when every such check is a metadata call, kept when the app turns out to need it
// (and then never narrowed again), and left alone when the check is a listing. The real-Node side is
// test/e2e/folder-self-checks.test.ts.
import { describe, expect, it } from 'vitest';
import type { Denial, FsProbe } from './types.js';
import { renderFlags } from './grants.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import { learn, learnStrategy, type RunRequest, type RunResult } from './learn/index.js';
import { fallbackGrants } from './fallback.js';

const APP = '/srv/app';
const NODE26 = capabilitiesOf(parseNodeVersion('v26.12.1')!);
const fs: FsProbe = {
  homedir: '/home/u',
  kind: (p) => (p === APP || p === `${APP}/src` ? 'dir' : p === `${APP}/src/a.txt` || p === '/srv/data/seed.txt' ? 'file' : 'missing'),
};

const check = (resource: string, extra: Partial<Denial> = {}): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  thread: 'main',
  site: `${APP}/bin/build.js:6:15`,
  existed: true,
  ...extra,
});
const result = (denials: Denial[], exitCode = 0): RunResult => ({
  outcome: 'exited',
  exitCode,
  denials,
  recorderLoaded: true,
  stderrDenials: [],
  stderrTail: '',
  durationMs: 1,
});

async function run(steps: RunResult[]) {
  const seen: string[][] = [];
  const runApp = async (req: RunRequest) => {
    seen.push(renderFlags(req.grants, NODE26));
    const r = steps[req.run - 1];
    if (!r) throw new Error(`run ${req.run} not scripted`);
    return r;
  };
  const res = await learn({ runApp, caps: NODE26, fs, maxRuns: 10, tighten: true, fold: true, strategy: learnStrategy('audit', { root: APP }) });
  return { res, seen };
}

const audit = (call: string) => result([check(APP, { call }), check(`${APP}/src/a.txt`, { call: 'readFileSync', site: `${APP}/bin/build.js:30:1` })]);

describe('a folder granted for a check of its own path', () => {
  it('is verified narrowed when that check is a readlink: two runs, the folder left out with why', async () => {
    const { res, seen } = await run([audit('readlinkSync'), result([])]);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(2);
    expect(seen).toEqual([['--permission'], ['--permission', `--allow-fs-read=${APP}/src/a.txt`]]);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/src/a.txt`]);
    expect(res.tightened?.removed.map((g) => g.path)).toEqual([APP]);
  });

  it('comes back whole when the app fails without it, and is not narrowed a second time', async () => {
    // The folded verification fails (it has no recorder, so says nothing). The narrowed folder was the one
    // candidate left out and the audit run saw everything, so the next run verifies with the folder back.
    const { res, seen } = await run([audit('readlinkSync'), result([], 1), result([])]);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(3);
    expect(seen.slice(1)).toEqual([
      ['--permission', `--allow-fs-read=${APP}/src/a.txt`],
      ['--permission', `--allow-fs-read=${APP}`],
    ]);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}`]);
    expect(res.tightened).toMatchObject({ removed: [], kept: [{ path: APP }], trials: 1 });
  });

  it('when the folder back does not settle it either, the enforce runs learn what is missing, the folder whole', async () => {
    // (a read of a file outside the folder, which the audit run did not report: a Node that hid it)
    const denied = result([check('/srv/data/seed.txt', { source: 'uncaught', call: 'readFileSync' })], 1);
    // The run this costs against the fold's loop alone: the enforce run that sees it clean, and the verification.
    const { res, seen } = await run([audit('readlinkSync'), result([], 1), result([], 1), denied, result([]), result([])]);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(6);
    expect(seen.slice(1)).toEqual([
      ['--permission', `--allow-fs-read=${APP}/src/a.txt`],
      ['--permission', `--allow-fs-read=${APP}`],
      ['--permission', `--allow-fs-read=${APP}`],
      ['--permission', `--allow-fs-read=${APP}`, '--allow-fs-read=/srv/data/seed.txt'],
      ['--permission', `--allow-fs-read=${APP}`, '--allow-fs-read=/srv/data/seed.txt'],
    ]);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}`, '--allow-fs-read=/srv/data/seed.txt']);
  });

  it('stays whole when the check lists the folder (readdir), or names no fs function', async () => {
    for (const call of ['readdirSync', undefined]) {
      const first = result([check(APP, call ? { call } : {}), check(`${APP}/src/a.txt`, { site: `${APP}/bin/build.js:30:1` })]);
      const { res, seen } = await run([first, result([])]);
      expect(res.runs).toBe(2);
      expect(seen[1]).toEqual(['--permission', `--allow-fs-read=${APP}`]);
      expect(res.tightened?.removed ?? []).toEqual([]);
    }
  });

  it('stays whole when a run saw the app list it, though its one reported check is a stat', async () => {
    // The recorder reports a folder's check once, named by its first call: a stat, then a readdir of the
    // same folder is one 'statSync' check, and the listing comes as a line of its own (`listed`).
    const first: RunResult = { ...audit('statSync'), listed: [APP] };
    const { res, seen } = await run([first, result([])]);
    expect(res.runs).toBe(2);
    expect(seen[1]).toEqual(['--permission', `--allow-fs-read=${APP}`]);
    expect(res.tightened?.removed ?? []).toEqual([]);
  });
});

describe('what a refused addon’s loader does next, and what the rest of the app does', () => {
  const NM = `${APP}/node_modules`;
  const at = (pkg: string) => `${NM}/${pkg}/index.js:3:1`;
  const c = (permission: Denial['permission'], resource: string, site: string): Denial => ({ ...check(resource), permission, source: 'caught', site });
  const grant = (d: Denial) => ({
    scope: d.permission === 'FileSystemWrite' ? ('fs.write' as const) : ('fs.read' as const),
    path: d.resource,
    kind: 'file' as const,
    denials: [d],
    notes: [],
  });

  it('sets aside the loader’s own next steps and a package first touched after the refusal, not the main line', () => {
    const cliRead = c('FileSystemRead', `${APP}/css/in.css`, at('@tw/cli'));
    const refused: Denial = { ...c('Addon', '', at('minifier')), code: 'ERR_DLOPEN_DISABLED' };
    const wasm = c('FileSystemRead', `${NM}/minifier-wasm/m.wasm`, at('minifier-wasm'));
    const cache = c('FileSystemWrite', `${APP}/.cache/minifier`, at('minifier'));
    const output = c('FileSystemWrite', `${APP}/out/tw.css`, at('@tw/cli'));
    const reported = [cliRead, refused, wasm, cache, output];
    const found = fallbackGrants([wasm, cache, output].map(grant), reported);
    expect(found.grants.map((g) => g.path)).toEqual([wasm.resource, cache.resource]);
    expect(found.trigger).toBe(refused);
  });
});

describe('a clean start granted only its own state', () => {
  it('is followed by the verification itself: three runs, not four', async () => {
    const out = `${APP}/out`;
    const probe: FsProbe = { homedir: '/home/u', kind: (p) => (p === out ? 'dir' : p === `${out}/x.txt` ? 'file' : 'missing') };
    const mkdir: Denial = { ...check(out, { existed: false, call: 'mkdir' }), permission: 'FileSystemWrite', source: 'uncaught' };
    const readBack = check(`${out}/x.txt`, { existed: false, source: 'caught' });
    const steps = [result([mkdir], 1), result([readBack]), result([])];
    const seen: string[][] = [];
    const runApp = async (req: RunRequest) => {
      seen.push([req.phase, ...renderFlags(req.grants, NODE26)]);
      const r = steps[req.run - 1];
      if (!r) throw new Error(`run ${req.run} not scripted`);
      return r;
    };
    const res = await learn({ runApp, caps: NODE26, fs: probe, maxRuns: 10, tighten: true, fold: true });
    expect(res.status).toBe('verified');
    expect(seen).toEqual([
      ['learn', '--permission'],
      ['learn', '--permission', `--allow-fs-write=${out}/*`],
      ['verify', '--permission', `--allow-fs-read=${out}/x.txt`, `--allow-fs-write=${out}/*`],
    ]);
  });
});
