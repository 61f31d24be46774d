// A helper that stats paths in a try (Vite's `tryStatSync`) is one call site for several searches: the
// frames above it tell them apart (sameAsker), so a failed run on one search does not take in the
// lookups another search made through the same helper (measured: Vite 7's build on 24.22.3 granted the
// package.json of every folder above the project, which the app does without).
import { describe, expect, it } from 'vitest';
import type { Denial, FsProbe } from './types.js';
import { sameAsker, siblingLookups } from './learn/candidates.js';
import { failedSearch } from './learn/tighten-units.js';

const APP = '/srv/app';
const fs: FsProbe = { homedir: '/home/u', kind: (p) => (p === `${APP}/package.json` ? 'file' : p === APP || p === `${APP}/web` ? 'dir' : 'missing') };
const CONFIG = `file://${APP}/node_modules/vite/dist/node/chunks/config.js`;
// The helper's stat, and who called it: loadEnv, findNearestPackageData, isFileReadable (the workspace-root walk).
const HELPER = `${CONFIG}:2034:13`;
const ENV = [`${CONFIG}:9405:8`];
const NEAREST = [`${CONFIG}:1684:7`, `${CONFIG}:35786:17`];
// The walk recurses: the nearest caller is the same in every folder, the frames further out are not.
const WALK_TOP = [`${CONFIG}:2135:7`, `${CONFIG}:25530:7`, `${CONFIG}:25558:6`, `${CONFIG}:25982:30`];
const WALK_DEEP = [`${CONFIG}:2135:7`, `${CONFIG}:25530:7`, `${CONFIG}:25558:6`, `${CONFIG}:25561:9`];

const lookup = (resource: string, callers?: string[]): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  site: HELPER,
  ...(callers ? { callers } : {}),
});
const walk = [lookup('/srv/package.json', WALK_TOP), lookup('/package.json', WALK_DEEP)];

describe('sameAsker', () => {
  it('one call site and the same nearest caller; the column and the frames further out do not count', () => {
    expect(sameAsker(walk[0]!, walk[1]!)).toBe(true);
    expect(sameAsker(lookup(`${APP}/web/.env`, ENV), { ...lookup(`${APP}/web/.env.local`, ENV), site: `${CONFIG}:2034:20` })).toBe(true);
    expect(sameAsker(lookup(`${APP}/web/package.json`, NEAREST), walk[0]!)).toBe(false);
    expect(sameAsker(lookup(`${APP}/web/.env`, ENV), lookup(`${APP}/web/package.json`, NEAREST))).toBe(false);
    expect(sameAsker(lookup(`${APP}/web/.env`, ENV), { ...lookup(`${APP}/web/.env`, ENV), site: `${CONFIG}:9000:1` })).toBe(false);
  });

  it('where the frames above one of them are unknown, the call site alone decides (as before callers were sent)', () => {
    expect(sameAsker(lookup(`${APP}/web/package.json`), walk[0]!)).toBe(true);
    expect(sameAsker(walk[0]!, lookup('/x/package.json'))).toBe(true);
  });
});

describe('siblingLookups through a shared helper', () => {
  it("a needed lookup brings the first run's lookups of its own caller, not those another caller made through the helper", () => {
    const nearestAbove = lookup('/srv/package.json', NEAREST);
    const needed = [lookup(`${APP}/web/package.json`, NEAREST)];
    expect(siblingLookups(needed, [...walk, nearestAbove], [], fs)).toEqual([nearestAbove]);
  });

  it('without callers on the needed lookup: every lookup of the call site, as before', () => {
    expect(siblingLookups([lookup(`${APP}/web/package.json`)], walk, [], fs)).toEqual(walk);
  });
});

describe('failedSearch through a shared helper', () => {
  it('a failed run on the walk takes in the rest of the walk (its nearest caller), not another caller’s lookups', () => {
    const other = lookup(`${APP}/web/.env`, ENV);
    const inSearch = failedSearch(false, [lookup(`${APP}/web/package.json`, WALK_TOP)], [...walk, other], fs);
    expect(walk.every(inSearch)).toBe(true);
    expect(inSearch(other)).toBe(false);
  });

  it('a failed run whose lookups came from two callers of the helper failed on no one search', () => {
    const acted = [lookup(`${APP}/web/.env`, ENV), lookup(`${APP}/web/package.json`, NEAREST)];
    const inSearch = failedSearch(false, acted, walk, fs);
    expect([...acted, ...walk].some(inSearch)).toBe(false);
  });
});
