// Tightening by call site: which candidates form one unit, what a failed trial proves, how many trials
// the reduction takes, and which lookups of a failed enforce run are its cause.
import { describe, expect, it } from 'vitest';
import { runResult } from '../../../../test/helpers/run-result.js';
import type { Denial, FsProbe } from './types.js';
import type { Grant } from './grants.js';
import { renderFlags } from './grants.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import { candidateUnits, failedSearch, provenUnits, reduceUnits, sameSearch } from './learn/tighten-units.js';
import { learn, learnStrategy, type RunRequest, type RunResult } from './learn/index.js';

const APP = '/srv/app';
const NODE26 = capabilitiesOf(parseNodeVersion('v26.10.0')!);
const fs: FsProbe = { homedir: '/home/u', kind: (p) => (p === `${APP}/config.json` || p === `${APP}/index.js` ? 'file' : p === APP ? 'dir' : 'missing') };

const lookup = (resource: string, site: string, extra: Partial<Denial> = {}): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  existed: false,
  site,
  ...extra,
});
const grantOf = (d: Denial, kind: 'missing' | 'file' = 'missing'): Grant => ({ scope: 'fs.read', path: d.resource, kind, denials: [d], notes: [] });
const result = runResult;

// The workspace-root walk (one call site, two names, every folder up to `/`) and a config search elsewhere.
const WALK = `${APP}/node_modules/vite/config.js:25538:38`;
const walk = ['/srv/app', '/srv', '/'].flatMap((d) => [`${d === '/' ? '' : d}/pnpm-workspace.yaml`, `${d === '/' ? '' : d}/lerna.json`]);
const walkGrants = walk.map((p) => grantOf(lookup(p, WALK)));
const configGrants = ['eslint.config.mjs', 'eslint.config.cjs'].map((n) => grantOf(lookup(`${APP}/${n}`, `${APP}/node_modules/locate-path/index.js:39:23`)));
const ignoreGrant = grantOf(lookup(`${APP}/.eslintignore`, `${APP}/node_modules/eslint/eslint.js:765:7`));
const configRead = grantOf({ ...lookup(`${APP}/config.json`, `${APP}/index.js:3:4`), existed: true }, 'file');

describe('sameSearch', () => {
  it('one folder under other names, or one name in a folder above; not one name in sibling folders', () => {
    expect(sameSearch('/srv/app/pnpm-workspace.yaml', '/srv/app/lerna.json')).toBe(true);
    expect(sameSearch('/srv/app/lerna.json', '/lerna.json')).toBe(true);
    expect(sameSearch('/srv/app/lerna.json', '/srv/lerna.json')).toBe(true);
    expect(sameSearch('/srv/app/node_modules/a/package.json', '/srv/app/node_modules/b/package.json')).toBe(false);
    expect(sameSearch('/srv/app/lerna.json', '/srv/pnpm-workspace.yaml')).toBe(false);
  });
});

describe('candidateUnits', () => {
  it('one search of one call site is one unit; other lookups and other candidates are alone', () => {
    const units = candidateUnits([walkGrants[0]!, configRead, ...configGrants, ...walkGrants.slice(1), ignoreGrant], fs);
    expect(units.map((u) => u.grants.map((g) => g.path))).toEqual([
      walk,
      [`${APP}/config.json`],
      [`${APP}/eslint.config.mjs`, `${APP}/eslint.config.cjs`],
      [`${APP}/.eslintignore`],
    ]);
    expect(units.map((u) => u.site)).toEqual([
      `${APP}/node_modules/vite/config.js:25538`,
      undefined,
      `${APP}/node_modules/locate-path/index.js:39`,
      `${APP}/node_modules/eslint/eslint.js:765`,
    ]);
  });

  it('each dependency’s package.json from one loop: one unit each', () => {
    const site = `${APP}/index.js:1:1`;
    const units = candidateUnits(
      ['a', 'b', 'c'].map((p) => grantOf(lookup(`${APP}/node_modules/${p}/package.json`, site))),
      fs,
    );
    expect(units.map((u) => u.grants.length)).toEqual([1, 1, 1]);
  });

  it('a lookup with no call site is alone', () => {
    const bare = grantOf(lookup(`${APP}/x.json`, ''));
    delete bare.denials[0]!.site;
    expect(candidateUnits([bare, walkGrants[0]!], fs).map((u) => u.grants.length)).toEqual([1, 1]);
  });
});

describe('provenUnits', () => {
  const units = candidateUnits([...walkGrants, ...configGrants, ignoreGrant], fs);
  const [walkUnit, configUnit, ignoreUnit] = units;

  it('the only candidate checks a failed trial acted on are one unit’s: that unit is proven', () => {
    const r = result({ exitCode: 1, denials: [lookup('/srv/app/pnpm-workspace.yaml', WALK), lookup(`${APP}/node-compile-cache/v26`, `${APP}/cli.js:5:5`)] });
    expect(provenUnits(r, units)).toEqual({ proven: [walkUnit] });
  });

  it('checks of two units, neither escaped: only named, not proven', () => {
    const r = result({ exitCode: 1, denials: [ignoreGrant.denials[0]!, configGrants[0]!.denials[0]!] });
    expect(provenUnits(r, units)).toEqual({ hit: [configUnit, ignoreUnit] });
  });

  it('two units named by denials that escaped the app: both proven', () => {
    const r = result({
      exitCode: 1,
      denials: [
        { ...ignoreGrant.denials[0]!, source: 'uncaught' },
        { ...walkGrants[3]!.denials[0]!, source: 'uncaught' },
      ],
    });
    expect(provenUnits(r, units)).toEqual({ proven: [walkUnit, ignoreUnit] });
  });

  it('an escaped denial no candidate answers: the failure is something else’s, nothing proven', () => {
    const r = result({
      exitCode: 1,
      denials: [{ ...lookup(`${APP}/data.txt`, `${APP}/index.js:9:9`), existed: true, source: 'uncaught' }, walkGrants[0]!.denials[0]!],
    });
    expect(provenUnits(r, units)).toBeUndefined();
  });

  it('no evidence (no recorder, or no denial): nothing', () => {
    expect(provenUnits(result({ exitCode: 1 }), units)).toBeUndefined();
    expect(provenUnits(result({ exitCode: 1, recorderLoaded: false, denials: [walkGrants[0]!.denials[0]!] }), units)).toBeUndefined();
  });
});

describe('reduceUnits', () => {
  const base = [configRead];

  /** The app needs the walk and the ignore file; a failed trial names the first of them it was denied. */
  function app(named: boolean) {
    const trials: string[][] = [];
    const trial = async (grants: Grant[]): Promise<RunResult> => {
      const paths = grants.map((g) => g.path!);
      trials.push(paths);
      if (!walk.every((p) => paths.includes(p)))
        return result({ exitCode: 1, denials: named ? [walkGrants.find((g) => !paths.includes(g.path!))!.denials[0]!] : [] });
      if (!paths.includes(`${APP}/.eslintignore`)) return result({ exitCode: 2, denials: named ? [ignoreGrant.denials[0]!] : [] });
      return result();
    };
    return { trial, trials };
  }

  it('each failed trial names the unit it failed without: one trial per needed unit, one to drop the rest', async () => {
    const { trial, trials } = app(true);
    const units = candidateUnits([...walkGrants, ...configGrants, ignoreGrant], fs);
    const r = await reduceUnits(base, units, trial, { maxTrials: 20, fs });
    expect(r.kept.map((g) => g.path)).toEqual([...walk, `${APP}/.eslintignore`]);
    expect(r.removed.map((g) => g.path)).toEqual([`${APP}/eslint.config.mjs`, `${APP}/eslint.config.cjs`]);
    expect(r).toMatchObject({ trials: 3, proven: 2, untried: [] });
    // Halves: [walk, config search] | [ignore file]. Without the first half it fails naming the walk (kept,
    // no trial of its own); with the walk the config search goes; without the ignore file it fails naming it.
    expect(trials.map((t) => t.length)).toEqual([1 + 1, 1 + 1 + 6, 1 + 6]);
  });

  it('trials that name nothing: plain halving over units, still one unit per search', async () => {
    const { trial } = app(false);
    const units = candidateUnits([...walkGrants, ...configGrants, ignoreGrant], fs);
    const r = await reduceUnits(base, units, trial, { maxTrials: 20, fs });
    expect(r.kept.map((g) => g.path)).toEqual([...walk, `${APP}/.eslintignore`]);
    expect(r).toMatchObject({ trials: 4, proven: 0 });
  });

  it('the budget runs out: what is left untried stays', async () => {
    const { trial } = app(false);
    const units = candidateUnits([...walkGrants, ...configGrants, ignoreGrant], fs);
    const r = await reduceUnits(base, units, trial, { maxTrials: 1, fs });
    expect(r.trials).toBe(1);
    expect(r.removed).toEqual([]);
    expect(r.untried.map((g) => g.path)).toEqual([...walk, `${APP}/eslint.config.mjs`, `${APP}/eslint.config.cjs`, `${APP}/.eslintignore`]);
  });
});

describe('failedSearch', () => {
  const first = walkGrants[0]!.denials[0]!;
  const siblings = walkGrants.slice(1).map((g) => g.denials[0]!);

  it('a failed run that acted only on one search’s lookups: those and the rest of the search are its cause', () => {
    const inSearch = failedSearch(false, [first], [...siblings, configGrants[0]!.denials[0]!], fs);
    expect(siblings.every(inSearch)).toBe(true);
    expect(inSearch(first)).toBe(true);
    expect(inSearch(configGrants[0]!.denials[0]!)).toBe(false);
  });

  it('not when the run passed, nor with lookups of two sites, nor with a read of a present file', () => {
    expect(failedSearch(true, [first], siblings, fs)(siblings[0]!)).toBe(false);
    expect(failedSearch(false, [first, ignoreGrant.denials[0]!], siblings, fs)(first)).toBe(false);
    expect(failedSearch(false, [first, configRead.denials[0]!], siblings, fs)(first)).toBe(false);
  });
});

describe('learn: the workspace walk of a build tool (Vite 7), scripted', () => {
  // The audit run sees the walk (one site) and a needed config read. Enforce mode: existsSync throws at the
  // first marker it may not check, and the tool's catch-all exits 1.
  const audit = result({ denials: [{ ...configRead.denials[0]!, existed: true, source: 'channel' }, ...walkGrants.map((g) => g.denials[0]!)] });
  function runApp() {
    const requests: { phase: string; flags: string[] }[] = [];
    return {
      requests,
      runApp: async (req: RunRequest): Promise<RunResult> => {
        const flags = renderFlags(req.grants, NODE26);
        requests.push({ phase: req.phase, flags });
        if (req.phase === 'audit') return audit;
        const missing = walk.find((p) => !flags.includes(`--allow-fs-read=${p}`));
        const recorder = req.phase !== 'verify';
        if (missing) return result({ exitCode: 1, recorderLoaded: recorder, denials: recorder ? [lookup(missing, WALK)] : [] });
        if (!flags.includes(`--allow-fs-read=${APP}/config.json`)) return result({ exitCode: 1 });
        return result();
      },
    };
  }

  it('the run that fails on the first marker learns the whole walk, none of it a candidate, and the next run verifies: four runs', async () => {
    const { runApp: run, requests } = runApp();
    const res = await learn({ runApp: run, caps: NODE26, fs, maxRuns: 40, tighten: true, fold: true, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    // The audit run saw everything else, and the enforce run failed on the walk alone: with the walk
    // granted, the next run is the verification.
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'verify', 'learn', 'verify']);
    expect(res.runs).toBe(4);
    expect(renderFlags(res.grants, NODE26)).toEqual(['--permission', ...[`${APP}/config.json`, ...walk].sort().map((p) => `--allow-fs-read=${p}`)]);
    expect(res.tightened?.removed).toEqual([]);
  });
});
