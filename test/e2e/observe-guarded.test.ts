// The observe run (Node 20/22) lets every read under the app root through, so the catch around a read
// never runs: a read whose call site is inside a try with a catch is soft evidence there as well, even
// when that run stops later at something its wide read grant does not cover (here a write into a folder
// the app creates). The verification run goes without it.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const learn = async (dir: string, args: string[]) => {
  const r = await runCli(['--format', 'json', ...args], { cwd: dir });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return JSON.parse(String(r.stdout)) as ProfileJson;
};

describe('a config lookup inside try/catch, seen by the observe run', () => {
  it.each([20, 22])('Node %i: the package.json the lookup reads is a candidate, and the verification run goes without it', async (major) => {
    const dir = copyFixture('caught/config-lookup');
    const enable = major === 20 ? '--experimental-permission' : '--permission';
    // 22 grants every process the read of its entry itself; 20 does not.
    const entry = (d: string) => (major === 20 ? [`--allow-fs-read=${d}/index.js`] : []);
    const loose = await learn(dir, ['--node', nodeBinary(major), '--no-tighten', 'index.js']);
    expect(loose.flags).toEqual([enable, ...entry(dir), `--allow-fs-read=${dir}/package.json`, `--allow-fs-write=${dir}/out/*`]);
    const tmp = copyFixture('caught/config-lookup');
    const tight = await learn(tmp, ['--node', nodeBinary(major), 'index.js']);
    expect(tight.flags).toEqual([enable, ...entry(tmp), `--allow-fs-write=${tmp}/out/*`]);
    expect(tight.verified).toBe(true);
    expect(tight.runs).toBe(3);
    const removed = (tight as { tightened?: { removed: { flag: string; why: string; denials: { source: string; guarded?: true; at?: string }[] }[] } })
      .tightened?.removed;
    expect(removed?.map((r) => r.flag)).toEqual([`--allow-fs-read=${tmp}/package.json`]);
    expect(removed?.[0]?.why).toBe('only reads inside a try block with a catch, and the app started without it');
    expect(removed?.[0]?.denials.map((d) => [d.source, d.guarded, d.at])).toEqual([['loaded', true, 'index.js:13']]);
  });

  it.each([24, 26])('Node %i: the audit run sees the same lookup, and leaves it out as before', async (major) => {
    const dir = copyFixture('caught/config-lookup');
    const tight = await learn(dir, ['--node', nodeBinary(major), 'index.js']);
    expect(tight.flags).toEqual(['--permission', `--allow-fs-write=${dir}/out/*`]);
    expect(tight.runs).toBe(2);
  });
});
