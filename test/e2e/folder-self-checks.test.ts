// A folder checked only for its own path (caught/link-walk: a resolver that readlinks every folder from
// the project down, as enhanced-resolve does under webpack and Tailwind, and ignores the failure far up
// the stack). Before, 24 and 26 granted the whole project folder for that one readlink; now the folder is
// tried narrowed in the folded verification and the profile reads src and node_modules only. Exact flags
// and runs on the pinned and newest builds, a pristine copy run with exactly the printed flags under a
// fresh HOME and TMPDIR, and each grant dropped in turn.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, freshHomeAndTmp, leftoverProcesses, nodeBinary, removeCopies, runCli, runPristine, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const FIXTURE = 'caught/link-walk';
const ENTRY = 'bin/build.js';
type Build = 'pinned' | 'latest';

describe('a folder checked only for its own path (caught/link-walk)', () => {
  const cases: [number, Build][] = [
    [20, 'pinned'],
    [22, 'pinned'],
    [22, 'latest'],
    [24, 'pinned'],
    [24, 'latest'],
    [26, 'pinned'],
    [26, 'latest'],
  ];
  for (const [major, build] of cases) {
    it(`Node ${major} (${build}): src and node_modules, not the project folder; two runs; each grant needed`, async () => {
      const dir = copyFixture(FIXTURE);
      const learnEnv = freshHomeAndTmp('lw');
      const r = await runCli(['--node', nodeBinary(major, build), '--format', 'json', ENTRY], { cwd: dir, env: learnEnv.env });
      learnEnv.done();
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const profile = JSON.parse(String(r.stdout)) as ProfileJson;
      expect(profile.verified).toBe(true);
      const enable = major === 20 ? '--experimental-permission' : '--permission';
      // Node 20 checks the entry's own read; 22+ let every process read its main file.
      const entry = major === 20 ? [`--allow-fs-read=${dir}/bin`] : [];
      expect(profile.flags).toEqual([enable, ...entry, `--allow-fs-read=${dir}/node_modules`, `--allow-fs-read=${dir}/src`]);
      expect(profile.runs).toBe(2);
      // Where the readlink of the project folder was seen (the audit runs of 24/26), the profile says why it went.
      const removed = profile.tightened?.removed ?? [];
      if (major >= 24) {
        expect(removed.map((g) => g.flag)).toEqual([`--allow-fs-read=${dir}`]);
        expect(removed[0]!.why).toMatch(/^only readlinkSync of the folder itself, which is not a listing/);
      }

      const { full: ok, removable } = await runPristine(FIXTURE, dir, major, build, profile.flags, ENTRY);
      expect(ok.exitCode, String(ok.stderr)).toBe(0);
      expect(String(ok.stdout)).toBe('ok: HELLO');
      expect(removable).toEqual([]);
    });
  }
});
