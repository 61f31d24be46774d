// A compiler that creates its output folder first and then searches its config by name with an
// existsSync per name and no try (caught/config-search, Babel 7's CLI). On 20/22 the observe run stops
// at the mkdir, before the search: the next run observes again with the folder granted, so the whole
// search is seen at once (before, each name cost an enforce run of its own: Babel took 18 runs on 22).
// A helper's existsSync of the project folder itself (inside a try, an answer the tool can do without)
// no longer grants the whole project on any line: the observe run names the fs call as the audit run
// does, and the folder is tried narrowed. Exact flags and runs on the pinned and newest builds, a
// pristine copy run with exactly the printed flags under a fresh HOME and TMPDIR, each grant dropped in turn.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, freshHomeAndTmp, leftoverProcesses, nodeBinary, removeCopies, runCli, runPristine, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const FIXTURE = 'caught/config-search';
const ENTRY = 'bin/compile.js';
type Build = 'pinned' | 'latest';

describe('a config search by existsSync after the output folder is made (caught/config-search)', () => {
  const cases: [number, Build, number][] = [
    [20, 'pinned', 3],
    [22, 'pinned', 3],
    [22, 'latest', 3],
    [24, 'pinned', 2],
    [24, 'latest', 2],
    [26, 'pinned', 2],
    [26, 'latest', 2],
  ];
  for (const [major, build, runs] of cases) {
    it(`Node ${major} (${build}): every name searched, not the project folder; ${runs} runs; each grant needed`, async () => {
      const dir = copyFixture(FIXTURE);
      const learnEnv = freshHomeAndTmp('cs');
      const r = await runCli(['--node', nodeBinary(major, build), '--format', 'json', ENTRY], { cwd: dir, env: learnEnv.env });
      learnEnv.done();
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const profile = JSON.parse(String(r.stdout)) as ProfileJson;
      expect(profile.verified).toBe(true);
      const enable = major === 20 ? '--experimental-permission' : '--permission';
      // Node 20 checks the entry's own read; 22+ let every process read its main file.
      const entry = major === 20 ? [`--allow-fs-read=${dir}/bin`] : [];
      expect(profile.flags).toEqual([
        enable,
        ...entry,
        `--allow-fs-read=${dir}/out`,
        `--allow-fs-read=${dir}/src`,
        ...['cjs', 'js', 'json', 'mjs'].map((ext) => `--allow-fs-read=${dir}/tool.config.${ext}`),
        `--allow-fs-write=${dir}/out/*`,
      ]);
      expect(profile.runs).toBe(runs);
      const removed = profile.tightened?.removed ?? [];
      expect(removed.map((g) => g.flag)).toEqual([`--allow-fs-read=${dir}`]);
      expect(removed[0]!.why).toMatch(/^only existsSync of the folder itself, which is not a listing/);

      const { full: ok, removable } = await runPristine(FIXTURE, dir, major, build, profile.flags, ENTRY);
      expect(ok.exitCode, String(ok.stderr)).toBe(0);
      expect(String(ok.stdout)).toBe('compiled 1 file(s)');
      expect(removable).toEqual([]);
    });
  }
});
