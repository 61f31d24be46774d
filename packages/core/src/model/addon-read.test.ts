// An addon refused in Node 24's audit mode: a second audit run with it granted, and the read of its file
// granted with it on the builds whose resolver checks that read (24.22+), scripted. The real binaries
// are in test/e2e/hidden-denials.test.ts (apps/addon-loader).
import { describe, expect, it } from 'vitest';
import { runResult as result } from '../../../../test/helpers/run-result.js';
import type { Denial, FsProbe } from './types.js';
import { renderFlags } from './grants.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import { addonFileReads } from './addon-read.js';
import { parseRecorderReport } from './parse-events.js';
import { learn, learnStrategy, type RunRequest, type RunResult } from './learn/index.js';
import { observeCandidates } from './learn/strategies/observe.js';

const APP = '/srv/app';
const caps = (v: string) => capabilitiesOf(parseNodeVersion(v)!);
const NODE24_PINNED = caps('v24.21.0');
const NODE24_NEWEST = caps('v24.22.3');
const ADDON = `${APP}/node_modules/@napi-rs/x-linux-x64-gnu/x.linux-x64-gnu.node`;
const LOADER = `${APP}/node_modules/@napi-rs/x/binding.js`;
// napi-rs's musl probe: a read of /usr/bin/ldd in a try/catch, the call site the guard probe knows.
const LDD_SITE = `${LOADER}:28:12`;
const files = new Set([`${APP}/config.json`, ADDON, '/usr/bin/ldd']);
const fs: FsProbe = {
  homedir: '/home/u',
  kind: (p) => (files.has(p) ? 'file' : p === APP ? 'dir' : 'missing'),
  guarded: (site) => site === LDD_SITE,
};

const read = (resource: string, site: string): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  existed: true,
  site,
});
// What the recorder reports of an addon refused in audit mode (24): at the source, with the file when
// require() was loading it. The loader catches it and throws its own error.
const refused = (file: string | undefined = ADDON): Denial => ({
  permission: 'Addon',
  resource: '',
  code: 'ERR_DLOPEN_DISABLED',
  source: 'caught',
  cwd: APP,
  site: `${LOADER}:288:27`,
  via: 'process.dlopen',
  ...(file ? { addonFile: file } : {}),
});
const ldd = read('/usr/bin/ldd', LDD_SITE);
const config = read(`${APP}/config.json`, `${APP}/index.js:3:4`);

/**
 * Node 24 as measured: audit mode refuses the addon and reports nothing after it (the loader fails);
 * with the addon granted it reports the config read. Enforce mode needs the addon and the config read,
 * and on the newest build the read of the addon's file (the resolver's realpath); never /usr/bin/ldd.
 */
function node24(build: typeof NODE24_PINNED, report: Denial = refused()) {
  const requests: { phase: string; flags: string[] }[] = [];
  const runApp = async (req: RunRequest): Promise<RunResult> => {
    const flags = renderFlags(req.grants, build);
    requests.push({ phase: req.phase, flags });
    const addons = flags.includes('--allow-addons');
    const granted = (p: string) => flags.includes(`--allow-fs-read=${p}`);
    if (req.phase === 'audit') return addons ? result({ denials: granted(config.resource) ? [] : [config] }) : result({ exitCode: 1, denials: [ldd, report] });
    const ok = addons && granted(config.resource) && (!build.resolverChecksAddonRead || granted(ADDON));
    if (ok) return result();
    // The resolver's check of the addon file, reported on the channel in enforce mode; the loader fails.
    const denied = addons && build.resolverChecksAddonRead && !granted(ADDON) ? [{ ...read(ADDON, `${LOADER}:288:27`), via: 'require' }] : [];
    return result({ exitCode: 1, denials: denied });
  };
  return { requests, runApp };
}

describe('learn on 24: an audit run that a refused addon cut short', () => {
  it('newest 24: audits again with the addon and its file granted, and verifies at once without the guarded read: three runs', async () => {
    const { requests, runApp } = node24(NODE24_NEWEST);
    const res = await learn({ runApp, caps: NODE24_NEWEST, fs, maxRuns: 40, tighten: true, fold: true, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(requests).toEqual([
      { phase: 'audit', flags: ['--permission'] },
      { phase: 'audit', flags: ['--permission', `--allow-fs-read=${ADDON}`, '--allow-fs-read=/usr/bin/ldd', '--allow-addons'] },
      // ldd was read inside a try in a run that ran to the end (the second): a candidate, left out.
      { phase: 'verify', flags: ['--permission', `--allow-fs-read=${APP}/config.json`, `--allow-fs-read=${ADDON}`, '--allow-addons'] },
    ]);
    expect(res.runs).toBe(3);
    expect(renderFlags(res.grants, NODE24_NEWEST)).toEqual([
      '--permission',
      `--allow-fs-read=${APP}/config.json`,
      `--allow-fs-read=${ADDON}`,
      '--allow-addons',
    ]);
  });

  it("pinned 24 (its resolver does not check the addon's read): the same three runs, and no read of the addon file", async () => {
    const { requests, runApp } = node24(NODE24_PINNED);
    const res = await learn({ runApp, caps: NODE24_PINNED, fs, maxRuns: 40, tighten: true, fold: true, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(requests).toEqual([
      { phase: 'audit', flags: ['--permission'] },
      { phase: 'audit', flags: ['--permission', '--allow-fs-read=/usr/bin/ldd', '--allow-addons'] },
      { phase: 'verify', flags: ['--permission', `--allow-fs-read=${APP}/config.json`, '--allow-addons'] },
    ]);
    expect(res.runs).toBe(3);
  });

  it('newest 24, an addon refused with no file named: no read planned, so the folded verification fails and enforce runs learn it: six runs, the cost this saves', async () => {
    const { requests, runApp } = node24(NODE24_NEWEST, refused(null as unknown as undefined));
    const res = await learn({ runApp, caps: NODE24_NEWEST, fs, maxRuns: 40, tighten: true, fold: true, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'audit', 'verify', 'learn', 'learn', 'verify']);
    expect(requests[1]!.flags).not.toContain(`--allow-fs-read=${ADDON}`);
    expect(requests[5]!.flags).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`, `--allow-fs-read=${ADDON}`, '--allow-addons']);
  });

  it('an audit run that failed for another reason is not repeated', async () => {
    const phases: string[] = [];
    const runApp = async (req: RunRequest): Promise<RunResult> => {
      phases.push(req.phase);
      const flags = renderFlags(req.grants, NODE24_NEWEST);
      if (req.phase === 'audit') return result({ exitCode: 1, denials: [config] });
      return flags.includes(`--allow-fs-read=${APP}/config.json`) ? result() : result({ exitCode: 1 });
    };
    const res = await learn({ runApp, caps: NODE24_NEWEST, fs, maxRuns: 40, tighten: true, fold: true, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(phases).toEqual(['audit', 'learn', 'verify']);
  });
});

describe('addonFileReads', () => {
  it("the read of a refused addon's file, only where the build's resolver checks it and the run did not report it", () => {
    const derived = {
      permission: 'FileSystemRead',
      resource: ADDON,
      code: 'ERR_ACCESS_DENIED',
      source: 'caught',
      site: `${LOADER}:288:27`,
      cwd: APP,
      via: 'require',
      message: "the resolver's read of the native addon's file, checked with the addon on this Node",
    };
    expect(addonFileReads([refused(), refused()], NODE24_NEWEST)).toEqual([derived]);
    for (const v of ['v20.20.2', 'v22.23.3', 'v24.21.0', 'v26.10.0']) expect(addonFileReads([refused()], caps(v)), v).toEqual([]);
    for (const v of ['v22.23.5', 'v24.22.1', 'v26.12.1']) expect(addonFileReads([refused()], caps(v)), v).toHaveLength(1);
    // Reported by the run itself (26.12.1's audit mode does): nothing to add.
    expect(addonFileReads([read(ADDON, `${LOADER}:288:27`), refused()], NODE24_NEWEST)).toEqual([]);
    // No file named, or not an addon refusal.
    expect(addonFileReads([refused(null as unknown as undefined), { ...config, addonFile: ADDON }], NODE24_NEWEST)).toEqual([]);
  });

  it('the recorder names the file only on an addon refused at process.dlopen, as an absolute path', () => {
    const line = (o: object) =>
      JSON.stringify({ t: 'denial', source: 'caught', thread: 'main', permission: 'Addon', resource: '', code: 'ERR_DLOPEN_DISABLED', ...o });
    const parse = (o: object) => parseRecorderReport(line(o), { verify: (l) => l }).denials[0];
    expect(parse({ via: 'process.dlopen', file: '/srv/app/x/../y.node' })?.addonFile).toBe('/srv/app/y.node');
    expect(parse({ via: 'process.dlopen', file: 'y.node' })).not.toHaveProperty('addonFile');
    expect(parse({ via: 'require', file: '/srv/app/y.node' })).not.toHaveProperty('addonFile');
    expect(parse({ via: 'process.dlopen', permission: 'FileSystemRead', resource: '/srv/app/a', file: '/srv/app/y.node' })).not.toHaveProperty('addonFile');
    expect(parse({ via: 'process.dlopen', file: 7 })).not.toHaveProperty('addonFile');
  });
});

describe('observe: a native addon loaded as a module', () => {
  it("its file's read is a candidate only where the resolver checks it (22.23.5, not 22.23.3)", () => {
    const run = result({
      modules: [
        { file: ADDON, from: LOADER },
        { file: LOADER, from: `${APP}/index.js` },
      ],
    });
    const reads = (v: string) => observeCandidates(run, APP, caps(v), fs).map((d) => d.resource);
    expect(reads('v22.23.3')).toEqual([LOADER]);
    expect(reads('v22.23.5')).toEqual([ADDON, LOADER]);
  });
});
