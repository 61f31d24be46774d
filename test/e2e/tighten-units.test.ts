// Tightening by call site on real Node (fixtures/caught/workspace-search, Vite 7's shape): a failed run
// that acted only on one search's lookups (a workspace marker in every folder up to `/`) learns the
// whole walk with no candidate in it; a failed trial that names one unit keeps it with no trial of its
// own. The printed flags hold the walk, exactly, and not the lookups the tool does without.
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, root, runCli, runNode, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

/** The folders from `dir` up to `/`. */
function upToRoot(dir: string): string[] {
  const all = [dir];
  while (path.dirname(all.at(-1)!) !== all.at(-1)) all.push(path.dirname(all.at(-1)!));
  return all;
}

describe('tightening by call site: the workspace-root walk', () => {
  // Runs, measured on the pinned builds. The walk's existsSync sits under the tool's catch-all, which sets
  // process.exitCode: each marker lookup is one the tool fails without (a fatal lookup, tighten.ts), so
  // the priming run grants the walk it saw. 24/26 (audit): the audit and the folded verification (before
  // fatal lookups: 9; before units and proofs: 23). 22 (observe): the observe run answers a denied
  // existsSync above the copy "no", as the audit run's Node does, so it sees the whole walk too, and the
  // folded verification follows (before: 2 * above + 2, one observe run per marker per folder; before
  // that 2 * above + 8).
  const runsOn = (_major: number, _above: number) => 2;

  for (const major of [26, 24, 22]) {
    it(`Node ${major}: the walk exactly, the ignore-file and config lookups left out`, async () => {
      const dir = copyFixture('caught/workspace-search');
      const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: dir });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const profile = JSON.parse(String(r.stdout)) as ProfileJson;
      expect(profile.verified).toBe(true);
      const walk = upToRoot(dir).flatMap((d) => [path.join(d, 'lerna.json'), path.join(d, 'pnpm-workspace.yaml')]);
      const expected = ['--permission', ...[`${dir}/input.txt`, ...walk].map((p) => `--allow-fs-read=${p}`)];
      expect([...profile.flags].sort()).toEqual(expected.sort());
      expect(profile.flags[0]).toBe('--permission');
      expect(profile.runs).toBe(runsOn(major, upToRoot(dir).length - 1));
      // The ignore-file lookup (its catch answers no) and the config search were never granted: no candidate is left to try.
      expect(profile.tightened?.removed.map((g) => g.flag) ?? []).toEqual([]);
      expect(profile.flags).not.toContain(`--allow-fs-read=${dir}/.toolignore`);

      // A pristine copy at the same path, real node, exactly the printed flags.
      rmSync(dir, { recursive: true, force: true });
      cpSync(path.join(root, 'fixtures', 'caught/workspace-search'), dir, { recursive: true });
      const run = await runNode(major, profile.flags, 'index.js', [], dir);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toBe('ok: ignore file none, root is the cwd, config none, input 42');
      // Without the marker lookup of the topmost folder, the walk fails: every one of them is needed.
      const without = profile.flags.filter((f) => f !== '--allow-fs-read=/lerna.json');
      const short = await runNode(major, without, 'index.js', [], dir);
      expect(short.exitCode).toBe(1);
    });
  }
});
