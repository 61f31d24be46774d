// The learn loop, tight and folded: candidates left out by the verification run, tried in groups
// only when it fails; two runs when the observing run's evidence is complete.
import { describe, expect, it } from 'vitest';
import { runResult } from '../../../../test/helpers/run-result.js';
import { channelRead } from '../../../../test/helpers/denial.js';
import type { Denial, FsProbe } from './types.js';
import { renderFlags } from './grants.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import { learn, learnStrategy, type LearnOptions, type RunRequest, type RunResult } from './learn/index.js';

const APP = '/srv/app';
const NODE26 = capabilitiesOf(parseNodeVersion('v26.10.0')!);
const NODE22 = capabilitiesOf(parseNodeVersion('v22.23.3')!);

function fakeFs(kinds: Record<string, 'file' | 'dir'>): FsProbe {
  return { homedir: '/home/u', kind: (p) => kinds[p] ?? 'missing' };
}
const check = channelRead(APP);
const result = runResult;
const FAIL = result({ exitCode: 1 });

/** The app as a function of its flags: it passes when every needed flag is there. */
function appNeeding(needed: string[], caps = NODE26, onRun?: (req: RunRequest, flags: string[]) => RunResult | undefined) {
  const requests: { phase: string; flags: string[] }[] = [];
  const runApp = async (req: RunRequest): Promise<RunResult> => {
    const flags = renderFlags(req.grants, caps);
    requests.push({ phase: req.phase, flags });
    const scripted = onRun?.(req, flags);
    if (scripted) return scripted;
    return needed.every((f) => flags.includes(f)) ? result() : FAIL;
  };
  return { runApp, requests };
}

const files = { [`${APP}/config.json`]: 'file', [`${APP}/node_modules`]: 'dir' } as const;
const base = (o: Partial<LearnOptions>): LearnOptions => ({
  runApp: async () => result(),
  caps: NODE26,
  fs: fakeFs(files),
  maxRuns: 40,
  tighten: true,
  fold: true,
  ...o,
});

describe('learn, tight and folded (audit)', () => {
  // The audit run: a needed read of config.json and two lookups of missing paths (the @types search).
  const audit = result({
    denials: [
      check('config.json', { existed: true }),
      check(`${APP}/node_modules/@types`, { existed: false }),
      check('/srv/node_modules/@types', { existed: false }),
    ],
  });

  it('two runs: the verification goes without the lookups and passes; they are reported as left out', async () => {
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`], NODE26, (req) => (req.phase === 'audit' ? audit : undefined));
    const res = await learn(base({ runApp, strategy: learnStrategy('audit') }));
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(2);
    expect(requests).toEqual([
      { phase: 'audit', flags: ['--permission'] },
      { phase: 'verify', flags: ['--permission', `--allow-fs-read=${APP}/config.json`] },
    ]);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`]);
    expect(res.tightened?.removed.map((g) => g.path)).toEqual([`${APP}/node_modules/@types`, '/srv/node_modules/@types']);
    expect(res.observed.map((d) => d.resource)).toEqual([`${APP}/node_modules/@types`, '/srv/node_modules/@types']);
  });

  it('a lookup the app needs after all: the verification fails, the loop learns it from the denial that escapes and verifies at once', async () => {
    const types = `--allow-fs-read=${APP}/node_modules/@types`;
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`, types], NODE26, (req, flags) => {
      if (req.phase === 'audit') return audit;
      if (req.phase === 'learn' && !flags.includes(types))
        return result({ exitCode: 1, denials: [check(`${APP}/node_modules/@types`, { source: 'uncaught' })] });
      return undefined;
    });
    const res = await learn(base({ runApp, strategy: learnStrategy('audit') }));
    expect(res.status).toBe('verified');
    // The learn run failed only for what the folded verification left out: with it back, the next run verifies.
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'verify', 'learn', 'verify']);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`, types]);
    expect(res.tightened?.removed.map((g) => g.path)).toEqual(['/srv/node_modules/@types']);
  });

  it('the app fails without a candidate with nothing to learn: the left-out candidates come back and are tried in groups', async () => {
    const many = Array.from({ length: 8 }, (_, i) => check(`${APP}/node_modules/p${i}/package.json`, { existed: false }));
    const needed = `--allow-fs-read=${APP}/node_modules/p5/package.json`;
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`, needed], NODE26, (req) =>
      req.phase === 'audit' ? result({ denials: [check('config.json', { existed: true }), ...many] }) : undefined,
    );
    const res = await learn(base({ runApp, strategy: learnStrategy('audit') }));
    expect(res.status).toBe('verified');
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`, needed]);
    expect(res.tightened?.removed).toHaveLength(7);
    expect(res.tightened?.kept.map((g) => g.path)).toEqual([`${APP}/node_modules/p5/package.json`]);
    // audit, verify without all 8, learn (fails, nothing to learn: all 8 back), learn passes, verify without them, trials, verify.
    const phases = requests.map((r) => r.phase);
    expect(phases.slice(0, 5)).toEqual(['audit', 'verify', 'learn', 'learn', 'verify']);
    expect(phases.at(-1)).toBe('verify');
    const trials = phases.filter((p) => p === 'tighten').length;
    expect(trials).toBeGreaterThan(0);
    expect(trials).toBeLessThanOrEqual(6);
    expect(res.runs).toBe(requests.length);
  });

  it('--no-tighten: the lookups stay, still two runs (fold only)', async () => {
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`], NODE26, (req) => (req.phase === 'audit' ? audit : undefined));
    const res = await learn(base({ runApp, strategy: learnStrategy('audit'), tighten: false }));
    expect(res.runs).toBe(2);
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'verify']);
    expect(renderFlags(res.grants, NODE26)).toEqual([
      '--permission',
      `--allow-fs-read=${APP}/config.json`,
      `--allow-fs-read=${APP}/node_modules/@types`,
      '--allow-fs-read=/srv/node_modules/@types',
    ]);
    expect(res.tightened).toBeUndefined();
  });

  it('a lookup of a file in a folder the app writes is its own state: not a candidate', async () => {
    const logs = `${APP}/logs`;
    const own = result({
      denials: [
        check(`${logs}/.state.json`, { existed: false }),
        { ...check(logs, { existed: false }), permission: 'FileSystemWrite' },
        { ...check(`${logs}/.state.json`, { existed: false }), permission: 'FileSystemWrite' },
      ],
    });
    const fs: FsProbe = { homedir: '/home/u', kind: (p) => (p === logs ? 'dir' : 'missing') };
    const { runApp, requests } = appNeeding([], NODE26, (req) => (req.phase === 'audit' ? own : undefined));
    const res = await learn(base({ runApp, strategy: learnStrategy('audit'), fs }));
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'verify']);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${logs}/.state.json`, `--allow-fs-write=${logs}/*`]);
    expect(res.tightened).toEqual({ removed: [], kept: [], untried: [], trials: 0 });
  });

  it('--minimize still runs after a folded verification', async () => {
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`], NODE26, (req) => (req.phase === 'audit' ? audit : undefined));
    const res = await learn(base({ runApp, strategy: learnStrategy('audit'), minimize: true }));
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'verify', 'minimize']);
    expect(res.minimized).toEqual({ removed: [], narrowed: [], untried: [] });
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`]);
  });

  it('an audit run that failed is not complete evidence: the enforce loop confirms first', async () => {
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`], NODE26, (req) =>
      req.phase === 'audit' ? result({ exitCode: 1, denials: [check('config.json', { existed: true })] }) : undefined,
    );
    const res = await learn(base({ runApp, strategy: learnStrategy('audit') }));
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'learn', 'verify']);
    expect(res.status).toBe('verified');
  });
});

describe('learn, tight (enforce loop)', () => {
  it('a clean run denied a caught read: not granted, no extra run, reported as left out', async () => {
    const caught = check('override.json', { source: 'caught' });
    const { runApp, requests } = appNeeding([], NODE22, () => result({ denials: [caught] }));
    const res = await learn(base({ runApp, caps: NODE22, fs: fakeFs({ [`${APP}/override.json`]: 'file' }) }));
    expect(requests.map((r) => r.phase)).toEqual(['learn', 'verify']);
    expect(renderFlags(res.grants, NODE22)).toEqual(['--permission']);
    expect(res.observed.map((d) => d.resource)).toEqual(['override.json']);
  });

  it('a failing run with only caught denials: they are granted, then tried without in groups and the unneeded one removed', async () => {
    const fs = fakeFs({ [`${APP}/a.json`]: 'file', [`${APP}/b.json`]: 'file' });
    const a = `--allow-fs-read=${APP}/a.json`;
    const { runApp, requests } = appNeeding([a], NODE22, (req, flags) =>
      req.phase === 'learn' && !flags.includes(a)
        ? result({ exitCode: 1, denials: [check('a.json', { source: 'caught' }), check('b.json', { source: 'caught' })] })
        : undefined,
    );
    const res = await learn(base({ runApp, caps: NODE22, fs }));
    expect(renderFlags(res.grants, NODE22)).toEqual(['--permission', a]);
    expect(res.tightened?.removed.map((g) => g.path)).toEqual([`${APP}/b.json`]);
    // Verification without both fails; without a (b kept) fails, so a stays; without b passes.
    expect(requests.map((r) => r.phase)).toEqual(['learn', 'learn', 'verify', 'tighten', 'tighten', 'verify']);
    expect(requests[4]!.flags).toEqual(['--permission', a]);
  });
});

describe('learn, tight: a read inside a try with a catch (the audit run allows it, so the catch never runs)', () => {
  const kinds = { [`${APP}/config.json`]: 'file', [`${APP}/override.json`]: 'file' } as const;
  const guarded = (site: string) => site === `${APP}/index.js:9:28`;
  const fs: FsProbe = { ...fakeFs(kinds), guarded };
  const audit = result({
    denials: [check('config.json', { existed: true }), check(`${APP}/override.json`, { existed: true, site: `${APP}/index.js:9:28` })],
  });

  it('is a candidate: two runs, and the profile says why it went', async () => {
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`], NODE26, (req) => (req.phase === 'audit' ? audit : undefined));
    const res = await learn(base({ runApp, fs, strategy: learnStrategy('audit') }));
    expect(res).toMatchObject({ status: 'verified', runs: 2 });
    expect(requests[1]).toEqual({ phase: 'verify', flags: ['--permission', `--allow-fs-read=${APP}/config.json`] });
    expect(res.tightened?.removed.map((g) => g.path)).toEqual([`${APP}/override.json`]);
    expect(res.tightened?.removed[0]!.denials[0]!.guarded).toBe(true);
  });

  it('a candidate the app does need after all comes back through the loop', async () => {
    const needed = [`--allow-fs-read=${APP}/config.json`, `--allow-fs-read=${APP}/override.json`];
    const { runApp } = appNeeding(needed, NODE26, (req, flags) => {
      if (req.phase === 'audit') return audit;
      if (!flags.includes(`--allow-fs-read=${APP}/override.json`))
        return result({ exitCode: 1, denials: [check(`${APP}/override.json`, { source: 'uncaught' })] });
      return undefined;
    });
    const res = await learn(base({ runApp, fs, strategy: learnStrategy('audit') }));
    expect(res.status).toBe('verified');
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', ...needed]);
  });

  it('never when the read escaped the app (uncaught), nor when the run that saw it did not run to the end', async () => {
    const uncaught = check(`${APP}/override.json`, { source: 'uncaught', site: `${APP}/index.js:9:28` });
    const { runApp } = appNeeding([`--allow-fs-read=${APP}/override.json`], NODE26, (req, flags) =>
      flags.includes(`--allow-fs-read=${APP}/override.json`) ? undefined : result({ exitCode: 1, denials: [uncaught] }),
    );
    const res = await learn(base({ runApp, fs, strategy: undefined }));
    expect(res.status).toBe('verified');
    expect(res.tightened).toBeUndefined();
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/override.json`]);
  });
});
