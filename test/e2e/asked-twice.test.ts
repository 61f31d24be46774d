// One missing path looked up from two call sites, the first inside a try, the second with none
// (caught/asked-twice, ESLint 9's cache file). The recorder reports each check once and counts its repeats,
// so only the guarded first lookup was seen, and each line spent a failed verification and an enforce run
// finding the second (ESLint: 9 runs on 22/24/26). A missing path asked for again from a new call site is
// now reported again (a few times at most): the lookup is a need from the first run. Exact flags and runs
// on the pinned builds, a pristine copy with exactly the printed flags, each grant dropped in turn.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, freshHomeAndTmp, leftoverProcesses, nodeBinary, removeCopies, runCli, runPristine, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const FIXTURE = 'caught/asked-twice';

describe('a missing path asked for from a guarded and an unguarded call site (caught/asked-twice)', () => {
  it.each([20, 22, 24, 26])('Node %i: the lookup is granted from the first run; two runs; needed', async (major) => {
    const dir = copyFixture(FIXTURE);
    const env = freshHomeAndTmp('at');
    const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: dir, env: env.env });
    env.done();
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(true);
    const enable = major === 20 ? '--experimental-permission' : '--permission';
    // Node 20 checks the entry's own read; 22+ let every process read its main file.
    const entry = major === 20 ? [`--allow-fs-read=${dir}/index.js`] : [];
    expect(profile.flags).toEqual([enable, `--allow-fs-read=${dir}/.toolcache`, ...entry]);
    expect(profile.runs).toBe(2);
    const { full, removable } = await runPristine(FIXTURE, dir, major, 'pinned', profile.flags, 'index.js');
    expect(full.exitCode, String(full.stderr)).toBe(0);
    expect(String(full.stdout)).toBe('ok: cache none');
    expect(removable).toEqual([]);
  });
});
