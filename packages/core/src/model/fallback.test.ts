import { describe, expect, it } from 'vitest';
import type { Denial, PermissionName, FsProbe } from './types.js';
import { renderFlags } from './grants.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import { learn, learnStrategy, type LearnEvent, type LearnOptions, type RunRequest, type RunResult } from './learn/index.js';
import { failureHidesItsCause } from './fallback.js';

const APP = '/srv/app';
const NM = `${APP}/node_modules`;
const NODE22 = capabilitiesOf(parseNodeVersion('v22.23.5')!);
const fs: FsProbe = { homedir: '/home/u', kind: (p) => (p === `${NM}/pkg/binding.js` || p === `${APP}/config.json` ? 'file' : 'missing') };

const caught = (permission: PermissionName, resource: string, extra: Partial<Denial> = {}): Denial => ({
  permission,
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'caught',
  cwd: APP,
  thread: 'main',
  site: `${NM}/pkg/binding.js:10:3`,
  ...extra,
});
const addon = caught('Addon', '', { code: 'ERR_DLOPEN_DISABLED' });
const result = (denials: Denial[], exitCode = 1): RunResult => ({
  outcome: 'exited',
  exitCode,
  denials,
  recorderLoaded: true,
  stderrDenials: [],
  stderrTail: '',
  durationMs: 1,
});

async function run(steps: RunResult[], tighten = false, more: Partial<LearnOptions> = {}) {
  const seen: string[][] = [];
  const events: LearnEvent[] = [];
  const runApp = async (req: RunRequest) => {
    seen.push(renderFlags(req.grants, NODE22));
    const r = steps[req.run - 1];
    if (!r) throw new Error(`run ${req.run} not scripted`);
    return r;
  };
  const res = await learn({ runApp, caps: NODE22, fs, maxRuns: 10, tighten, onEvent: (e) => events.push(e), ...more });
  return { res, seen, events };
}

describe('the fallback a denied addon sends a loader down', () => {
  // The loader reads its binding, is denied the addon, then looks for a WASM build and a download cache.
  const first = result([
    caught('FileSystemRead', `${NM}/pkg/binding.js`),
    addon,
    caught('FileSystemRead', `${NM}/pkg-wasm32-wasi/package.json`),
    caught('FileSystemWrite', '/srv/cache/pkg'),
  ]);

  it('is set aside once the addon is granted: the next run starts cleanly and verifies without it', async () => {
    const { res, seen, events } = await run([first, result([], 0), result([], 0)]);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(3);
    const flags = ['--permission', `--allow-fs-read=${NM}/pkg/binding.js`, '--allow-addons'];
    expect(seen).toEqual([['--permission'], flags, flags]);
    const aside = events.find((e) => e.type === 'set-aside');
    // (The WASM lookup of a missing path is left out as a lookup already, preferPresent.)
    expect(aside && aside.type === 'set-aside' ? renderFlags(aside.grants, NODE22) : []).toEqual(['--permission', '--allow-fs-write=/srv/cache/pkg']);
  });

  it('comes back, all of it, when a later run is denied one of its paths', async () => {
    const needed = result([{ ...caught('FileSystemWrite', '/srv/cache/pkg'), source: 'uncaught', site: `${APP}/index.js:3:1` }]);
    const { res, seen, events } = await run([first, needed, result([], 0), result([], 0)]);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(4);
    const all = ['--permission', `--allow-fs-read=${NM}/pkg/binding.js`, '--allow-fs-write=/srv/cache/pkg', '--allow-addons'];
    expect(seen[2]).toEqual(all);
    expect(renderFlags(res.grants, NODE22)).toEqual(all);
    expect(events.map((e) => e.type).filter((t) => t === 'set-aside' || t === 'restored')).toEqual(['set-aside', 'restored']);
  });

  it('never takes what was denied before the addon, in another thread, or when no loader capability was learned', async () => {
    const other = result([
      caught('FileSystemRead', `${APP}/config.json`, { thread: 'worker' }),
      addon,
      caught('FileSystemRead', `${APP}/config.json`, { thread: 'worker' }),
      caught('FileSystemRead', `${NM}/pkg/binding.js`),
    ]);
    // binding.js reported after the addon, but config.json was already asked for by the Worker before it.
    const { res } = await run([other, result([], 0), result([], 0)]);
    expect(renderFlags(res.grants, NODE22)).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`, '--allow-addons']);
    // No addon denial at all: nothing is set aside.
    const plain = await run([result([caught('FileSystemRead', `${NM}/pkg/binding.js`)]), result([], 0), result([], 0)]);
    expect(plain.events.some((e) => e.type === 'set-aside')).toBe(false);
    expect(renderFlags(plain.res.grants, NODE22)).toEqual(['--permission', `--allow-fs-read=${NM}/pkg/binding.js`]);
  });
});

describe('a failure whose error carries no denial (a loader or a Worker rewrote it)', () => {
  it('is told apart from a failure that shows its denial, a clean run, and a run with nothing seen', () => {
    expect(failureHidesItsCause(result([addon]))).toBe(true);
    expect(failureHidesItsCause(result([{ ...caught('FileSystemWrite', `${APP}/logs`), thread: 'worker' }]))).toBe(true);
    expect(failureHidesItsCause(result([caught('FileSystemRead', '/usr/bin/ldd'), { ...caught('FileSystemRead', `${APP}/x`), source: 'uncaught' }]))).toBe(
      false,
    );
    expect(failureHidesItsCause(result([caught('FileSystemRead', `${APP}/x`), { ...caught('FileSystemRead', `${APP}/y`), source: 'logged' }]))).toBe(false);
    expect(failureHidesItsCause(result([addon], 0))).toBe(false);
    expect(failureHidesItsCause(result([]))).toBe(false);
    expect(failureHidesItsCause({ ...result([addon]), outcome: 'timeout' } as RunResult)).toBe(false);
  });

  it('keeps what the run saw at the source out of tightening: the addon is verified at once, not tried without', async () => {
    // Tight: a caught denial is soft evidence, unless the run it ended failed with none in its error.
    const { res, seen } = await run([result([addon]), result([], 0), result([], 0)], true);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(3);
    expect(seen).toEqual([['--permission'], ['--permission', '--allow-addons'], ['--permission', '--allow-addons']]);
    // The same denial in a run whose own error shows another denial stays soft: the verification goes without it first.
    const shown = await run(
      [result([addon, { ...caught('FileSystemRead', `${APP}/config.json`), source: 'uncaught' }]), result([], 0), result([], 0), result([], 0)],
      true,
    );
    expect(shown.seen[2]).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`]);
    expect(renderFlags(shown.res.grants, NODE22)).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`]);
  });
});

describe('a child process the loader starts after its addon was refused (an observe run)', () => {
  // unrs-resolver under Jest: denied its binding, it runs napi-postinstall to fetch one, a child process.
  const refused = caught('Addon', '', { code: 'ERR_DLOPEN_DISABLED', time: 100 });
  const installer = { scope: 'child' as const, site: `${NM}/installer/fallback.js:40:5`, api: 'spawnSync', hits: 1 };
  const observeRuns = (startedAt: number) =>
    run([{ ...result([refused]), uses: [{ ...installer, time: startedAt }] }, result([], 0), result([], 0)], false, {
      fold: true,
      strategy: learnStrategy('observe', { root: APP }),
    });

  it('is set aside with the fallback: the next run takes the addon, and the profile has no child process grant', async () => {
    const { res, seen, events } = await observeRuns(150);
    expect(res.status).toBe('verified');
    expect(renderFlags(res.grants, NODE22)).toEqual(['--permission', '--allow-addons']);
    expect(seen[2]).toEqual(['--permission', '--allow-addons']);
    const aside = events.find((e) => e.type === 'set-aside');
    expect(aside && 'grants' in aside ? aside.grants.map((g) => g.scope) : []).toEqual(['child']);
  });

  it('stays when it started before the refusal: the app’s main line, not the loader’s fallback', async () => {
    const { res } = await observeRuns(50);
    expect(renderFlags(res.grants, NODE22)).toEqual(['--permission', '--allow-child-process', '--allow-addons']);
  });
});

describe('an addon check audit mode only published', () => {
  it('refused nothing (26 lets the addon load): what the loader does next is its main line, kept', async () => {
    const { fallbackGrants } = await import('./fallback.js');
    const write = caught('FileSystemWrite', `${APP}/dist`, { source: 'channel', site: `${NM}/pkg/index.js:40:3` });
    const grant = { scope: 'fs.write' as const, path: `${APP}/dist`, kind: 'created-dir' as const, denials: [write], notes: [] };
    const published = caught('Addon', '', { source: 'channel', site: `${NM}/pkg/native.js:10:3` });
    expect(fallbackGrants([grant], [published, write]).grants).toEqual([]);
    // Refused (24's audit mode throws ERR_DLOPEN_DISABLED, as every enforce run does): set aside.
    const refused = caught('Addon', '', { code: 'ERR_DLOPEN_DISABLED', site: `${NM}/pkg/native.js:10:3` });
    expect(fallbackGrants([grant], [refused, write]).grants).toEqual([grant]);
  });
});
