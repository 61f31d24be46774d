// `permlearn merge`: two runs of one app (each mode needs something the other does not) become one
// profile with "seen in N of M runs" per grant, verified when an entry is given, that real Node runs in both modes.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, runNode, type MergedProfile } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

type Merged = MergedProfile;

describe('services/modes', () => {
  it.each([26, 20])('merges the profiles of two runs (Node %i)', async (major) => {
    const dir = copyFixture('services/modes');
    for (const mode of ['serve', 'report']) {
      const r = await runCli(['--node', nodeBinary(major), '--granularity', 'file', '--format', 'json', '--out', `${mode}.json`, '-q', 'app.js', mode], {
        cwd: dir,
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
    }
    rmSync(path.join(dir, 'out'), { recursive: true, force: true });

    // Without an entry: the union, not run as a whole.
    const plain = await runCli(['merge', 'serve.json', 'report.json'], { cwd: dir });
    expect(plain.exitCode, String(plain.stderr)).toBe(0);
    const union = JSON.parse(String(plain.stdout)) as Merged;
    expect(union.merged).toEqual({ from: ['serve.json', 'report.json'], verified: false });
    expect(String(plain.stderr)).toMatch(/not run as a whole: give --entry/);
    const seen = Object.fromEntries(union.grants.map((g) => [g.flag, `${g.seen.runs}/${g.seen.of}`]));
    expect(seen).toMatchObject({
      [`--allow-fs-read=${dir}/modes/serve.json`]: '1/2',
      [`--allow-fs-read=${dir}/modes/report.json`]: '1/2',
      [`--allow-fs-write=${dir}/out/*`]: '1/2',
    });
    if (major === 20) expect(seen[`--allow-fs-read=${dir}/app.js`]).toBe('2/2');
    expect(String(plain.stderr)).toMatch(/--allow-fs-read=\S+\/modes\/serve\.json {2}seen in 1 of 2 runs/);

    // With an entry: run once with exactly the merged flags.
    const verified = await runCli(
      ['merge', 'serve.json', 'report.json', '--node', nodeBinary(major), '--entry', 'app.js', '--out', 'merged.json', '--', 'report'],
      { cwd: dir },
    );
    expect(verified.exitCode, String(verified.stderr)).toBe(0);
    expect(String(verified.stderr)).toMatch(/✔ the merged profile verified/);
    const merged = JSON.parse(readFileSync(path.join(dir, 'merged.json'), 'utf8')) as Merged;
    expect(merged).toMatchObject({ verified: true, merged: { verified: true } });
    rmSync(path.join(dir, 'out'), { recursive: true, force: true });
    for (const mode of ['serve', 'report']) {
      const run = await runNode(major, merged.flags, 'app.js', [mode], dir);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toContain(`ok: modes ${mode}`);
    }
  });

  it('a merged profile that does not start the app: exit 5', async () => {
    const dir = copyFixture('services/modes');
    const r = await runCli(['--node', nodeBinary(26), '--format', 'json', '--out', 'serve.json', '-q', 'app.js', 'serve'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const m = await runCli(['merge', 'serve.json', '--node', nodeBinary(26), '--entry', 'app.js', '--', 'report'], { cwd: dir });
    expect(m.exitCode).toBe(5);
    expect(String(m.stderr)).toMatch(/the merged profile did not start the app/);
    expect(JSON.parse(String(m.stdout))).toMatchObject({ verified: false, status: 'verify-failed' });
  });
});
