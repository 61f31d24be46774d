// permlearn's own start: the CLI runs from its one-file build and, on Node 22.1+, keeps V8's compiled
// code of its files in Node's compile cache. That cache is permlearn's, not the app's: it lies in the
// temporary directory, the app's processes are not started with it, and no path of it reaches the
// profile or the app's project.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, cliPath, copyFixture, nodeBinary, removeCopies, type ProfileJson } from '../helpers/e2e.js';

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
  removeCopies();
});

/** Every path under `dir`, relative to it. */
const tree = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

describe.each([20, 26])('the CLI itself running on Node %i', (major) => {
  it('learns read-config (the app on 26) with the same flags; its compile cache is in TMPDIR on 22+ only, in no profile', async () => {
    const app = copyFixture('scopes/read-config');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pl-start-'));
    temps.push(tmp);
    const before = tree(app);
    const r = await execa(nodeBinary(major), [cliPath, '--node', nodeBinary(26), '--format', 'json', 'index.js'], {
      cwd: app,
      env: { ...baseEnv, TMPDIR: tmp },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 110_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const profile = JSON.parse(r.stdout) as ProfileJson;
    expect(profile.flags).toEqual(['--permission', `--allow-fs-read=${path.join(app, 'config.json')}`]);
    expect(r.stdout).not.toContain('node-compile-cache');
    expect(r.stdout).not.toContain(tmp);
    expect(tree(app)).toEqual(before);
    const cache = readdirSync(tmp).filter((n) => n === 'node-compile-cache');
    if (major >= 22) {
      expect(cache).toEqual(['node-compile-cache']);
      // Written when permlearn ended: the entries of its own files, for this Node.
      const [forThisNode] = readdirSync(path.join(tmp, 'node-compile-cache'));
      expect(forThisNode).toMatch(new RegExp(`^v${major}\\.`));
      expect(readdirSync(path.join(tmp, 'node-compile-cache', forThisNode!)).length).toBeGreaterThan(0);
    } else {
      expect(cache).toEqual([]);
    }
  });
});
