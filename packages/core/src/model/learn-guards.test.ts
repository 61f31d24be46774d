// The learn loop with the runner's catch probe scripted (FsProbe.guarded / catchStops): a read caught
// by a try in a caller's frame is a candidate, a lookup whose catch stops the app is granted from the
// priming run, and a failed run that names only what a folded verification left out is followed by the
// verification itself.
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
const HELPER = `${APP}/node_modules/probe/lib/head.js:7:17`;
const CALLER = `${APP}/node_modules/probe/index.js:10:19`;
const READER = `${APP}/lib/read.js:3:12`;

const check = channelRead(APP);

/** The probe's answers, by call site: guarded only with CALLER above HELPER; READER's catch stops. */
function fsWith(kinds: Record<string, 'file' | 'dir'>, asked: string[] = []): FsProbe {
  return {
    homedir: '/home/u',
    kind: (p) => kinds[p] ?? 'missing',
    guarded: (site, callers = []) => {
      asked.push(`${site} <- ${callers.join(' <- ')}`);
      return site === HELPER && callers[0] === CALLER;
    },
    catchStops: (site) => site === READER,
  };
}

function appNeeding(needed: string[], caps: typeof NODE26, onRun: (req: RunRequest, flags: string[]) => RunResult | undefined) {
  const requests: { phase: string; flags: string[] }[] = [];
  const runApp = async (req: RunRequest): Promise<RunResult> => {
    const flags = renderFlags(req.grants, caps);
    requests.push({ phase: req.phase, flags });
    return onRun(req, flags) ?? (needed.every((f) => flags.includes(f)) ? runResult() : runResult({ exitCode: 1 }));
  };
  return { runApp, requests };
}

const files = { [`${APP}/config.json`]: 'file', '/proc/self/exe': 'file', [`${APP}/node_modules`]: 'dir' } as const;
const base = (o: Partial<LearnOptions>): LearnOptions => ({
  runApp: async () => runResult(),
  caps: NODE26,
  fs: fsWith(files),
  maxRuns: 40,
  tighten: true,
  fold: true,
  ...o,
});

describe('a read caught in a caller frame', () => {
  it('audit (26): the helper read the caller guards is left out of the verification; the same read with no caller guarding it stays', async () => {
    const asked: string[] = [];
    const audit = runResult({
      denials: [check('config.json', { existed: true }), check('/proc/self/exe', { existed: true, site: HELPER, callers: [CALLER, `${APP}/index.js:3:1`] })],
    });
    const { runApp, requests } = appNeeding([`--allow-fs-read=${APP}/config.json`], NODE26, (req) => (req.phase === 'audit' ? audit : undefined));
    const res = await learn(base({ runApp, strategy: learnStrategy('audit'), fs: fsWith(files, asked) }));
    expect(res.status).toBe('verified');
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'verify']);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`]);
    expect(res.tightened?.removed.map((g) => g.path)).toEqual(['/proc/self/exe']);
    // The probe was given the frames above the call site, innermost first.
    expect(asked).toContain(`${HELPER} <- ${CALLER} <- ${APP}/index.js:3:1`);

    // Without the caller's frame the probe says no: the read is granted.
    const bare = runResult({ denials: [check('config.json', { existed: true }), check('/proc/self/exe', { existed: true, site: HELPER })] });
    const again = appNeeding([`--allow-fs-read=${APP}/config.json`], NODE26, (req) => (req.phase === 'audit' ? bare : undefined));
    const kept = await learn(base({ runApp: again.runApp, strategy: learnStrategy('audit') }));
    expect(renderFlags(kept.grants, NODE26)).toEqual(['--permission', '--allow-fs-read=/proc/self/exe', `--allow-fs-read=${APP}/config.json`]);
  });

  it('an escaped denial at a guarded site is never a candidate', async () => {
    const exe = '--allow-fs-read=/proc/self/exe';
    const { runApp, requests } = appNeeding([exe], NODE26, (req, flags) =>
      req.phase === 'learn' && !flags.includes(exe)
        ? runResult({ exitCode: 1, denials: [check('/proc/self/exe', { source: 'uncaught', site: HELPER, callers: [CALLER] })] })
        : undefined,
    );
    const res = await learn(base({ runApp }));
    expect(res.status).toBe('verified');
    expect(requests.map((r) => r.phase)).toEqual(['learn', 'learn', 'verify']);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', exe]);
  });
});

describe('a lookup whose catch stops the app', () => {
  it('audit (26): granted from the audit run, exactly, and no candidate: two runs', async () => {
    const audit = runResult({
      denials: [
        check('config.json', { existed: true }),
        // .toolrc is read where the catch throws on anything but ENOENT; .toolrc.json where it does not.
        check(`${APP}/.toolrc`, { existed: false, site: READER }),
        check(`${APP}/.toolrc.json`, { existed: false }),
      ],
    });
    const needed = [`--allow-fs-read=${APP}/config.json`, `--allow-fs-read=${APP}/.toolrc`];
    const { runApp, requests } = appNeeding(needed, NODE26, (req) => (req.phase === 'audit' ? audit : undefined));
    const res = await learn(base({ runApp, strategy: learnStrategy('audit') }));
    expect(res.status).toBe('verified');
    expect(requests).toEqual([
      { phase: 'audit', flags: ['--permission'] },
      { phase: 'verify', flags: ['--permission', `--allow-fs-read=${APP}/.toolrc`, `--allow-fs-read=${APP}/config.json`] },
    ]);
    expect(res.tightened?.removed ?? []).toEqual([]);
    expect(res.observed.map((d) => d.resource)).toEqual([`${APP}/.toolrc.json`]);
  });

  it('observe (22): a missing path the observe run looked up there is granted too', async () => {
    const observe = runResult({
      modules: [],
      missing: [
        { file: `${APP}/.toolrc`, from: READER, api: 'readFile' },
        { file: `${APP}/.toolrc.json`, from: `${APP}/index.js:2:2`, api: 'stat' },
      ],
    });
    const rc = `--allow-fs-read=${APP}/.toolrc`;
    const { runApp, requests } = appNeeding([rc], NODE22, (req) => (req.phase === 'observe' ? observe : undefined));
    const res = await learn(base({ runApp, caps: NODE22, strategy: learnStrategy('observe', { root: APP }) }));
    expect(res.status).toBe('verified');
    expect(requests.map((r) => r.phase)).toEqual(['observe', 'verify']);
    expect(renderFlags(res.grants, NODE22)).toEqual(['--permission', rc]);
  });
});
