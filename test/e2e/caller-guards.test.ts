// Guards the call site alone does not show, on real Node 20-26. caught/helper-read (sharp's
// detect-libc): one helper opens two files with no try of its own; the caller of one ignores a failure,
// the caller of the other throws. caught/fatal-lookup (prettier 3's): an optional ignore file read where
// the catch throws on anything but ENOENT, and a find-up whose result decides where the cache lives.
// Exact flags, run counts, and a pristine copy run with exactly the printed flags.
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, root, runCli, runNode, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const enable = (major: number) => (major === 20 ? '--experimental-permission' : '--permission');

async function learnFixture(name: string, major: number): Promise<{ dir: string; profile: ProfileJson }> {
  const dir = copyFixture(name);
  const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: dir });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  const profile = JSON.parse(String(r.stdout)) as ProfileJson;
  expect(profile.verified).toBe(true);
  return { dir, profile };
}

/** A pristine copy at the same path, run with exactly `flags`. */
async function pristine(name: string, dir: string, major: number, flags: string[]) {
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(root, 'fixtures', name), dir, { recursive: true });
  return runNode(major, flags, 'index.js', [], dir);
}

describe('a read caught by a try in the caller’s frame (caught/helper-read)', () => {
  for (const major of [20, 22, 24, 26]) {
    it(`Node ${major}: /proc/self/exe is left out, data.bin stays; two runs`, async () => {
      const { dir, profile } = await learnFixture('caught/helper-read', major);
      const entry = major === 20 ? [`--allow-fs-read=${dir}/index.js`] : [];
      expect(profile.flags).toEqual([enable(major), `--allow-fs-read=${dir}/data.bin`, ...entry, `--allow-fs-read=${dir}/lib`]);
      expect(profile.runs).toBe(2);
      const run = await pristine('caught/helper-read', dir, major, profile.flags);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toMatch(/^ok: TOOLDATA v1, (32|64)-bit$/);
      // The other read through the same helper is needed: its caller throws without it.
      const short = await runNode(
        major,
        profile.flags.filter((f) => !f.endsWith('/data.bin')),
        'index.js',
        [],
        dir,
      );
      expect(short.exitCode).toBe(1);
      expect(String(short.stderr)).toContain('cannot read data.bin');
    });
  }
});

describe('a lookup whose catch throws on a denial (caught/fatal-lookup)', () => {
  for (const major of [20, 22, 24, 26]) {
    it(`Node ${major}: the ignore file and the cache lookup from the first run, the manifest after one failed verification; three runs`, async () => {
      const { dir, profile } = await learnFixture('caught/fatal-lookup', major);
      const entry = major === 20 ? [`--allow-fs-read=${dir}/index.js`] : [];
      expect(profile.flags).toEqual([
        enable(major),
        `--allow-fs-read=${dir}/.cache/tool-cache`,
        `--allow-fs-read=${dir}/.toolignore`,
        ...entry,
        `--allow-fs-read=${dir}/tool.json`,
      ]);
      // The priming run, the folded verification (the find-up's manifest, the one candidate, left out: it
      // fails) and the verification with the manifest back (verify.ts). Before: 7, then 4 (an enforce run
      // to name the manifest before the verification).
      expect(profile.runs).toBe(3);
      const run = await pristine('caught/fatal-lookup', dir, major, profile.flags);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toBe('ok: ignore none, manifest found, cache cold');
      // Each grant is needed: without any one of them the tool stops.
      for (const flag of profile.flags.slice(1)) {
        const short = await runNode(
          major,
          profile.flags.filter((f) => f !== flag),
          'index.js',
          [],
          dir,
        );
        expect(short.exitCode, flag).not.toBe(0);
      }
    });
  }
});
