// A Worker given an execArgv of its own without --permission runs outside the permission model on every
// line (20-26): the profile says so, with where the app starts it, and grants nothing for what that
// Worker does (its reads need no grant); the printed flags still run the app from a pristine copy.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { baseEnv, copyFixture, copyFolderTo, leftoverProcesses, removeCopies, root, runCli, runNode, nodeBinary } from '../helpers/e2e.js';

const scratch: string[] = [];
const fresh = (prefix: string): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(d);
  return d;
};
afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('a Worker started outside the permission model (esbuild’s service worker shape)', () => {
  it.each([20, 22, 24, 26])('Node %i: named in a warning, nothing granted for it, verified', async (major) => {
    const dir = copyFixture('children/unbound-worker');
    const env = { ...baseEnv, HOME: fresh('pl-home-'), TMPDIR: fresh('pl-tmp-') };
    const r = await runCli(['--node', nodeBinary(major), 'index.js'], { cwd: dir, env });
    const stderr = String(r.stderr);
    expect(r.exitCode, stderr).toBe(0);
    const flags = String(r.stdout).trim().split(' ');
    expect(flags).toEqual(
      major === 20
        ? ['--experimental-permission', `--allow-fs-read=${dir}/config.json`, `--allow-fs-read=${dir}/index.js`, '--allow-worker']
        : ['--permission', `--allow-fs-read=${dir}/config.json`, '--allow-worker'],
    );
    expect(stderr.split('\n').filter((l) => l.startsWith('warning: the app starts a Worker'))).toEqual([
      `warning: the app starts a Worker with an execArgv of its own (at ${dir}/index.js:10:16), without --permission: Node runs that Worker outside the permission model, so none of these grants bind it and what it does is not in this profile`,
    ]);
    expect(stderr).toContain('one given an execArgv of its own without --permission runs outside the permission model');
    // Two runs on every line: on 20/22 the observe run grants the Worker's start from the main thread's report.
    expect(stderr).toMatch(/✔ verified in 2 runs /);
    // A pristine copy at the same path, a fresh HOME and TMPDIR, exactly the printed flags: the Worker
    // reads /etc/hostname, which no flag grants.
    copyFolderTo(path.join(root, 'fixtures/children/unbound-worker'), dir);
    const run = await runNode(major, flags, 'index.js', [], dir, { env: { ...baseEnv, HOME: fresh('pl-home-'), TMPDIR: fresh('pl-tmp-') }, extendEnv: false });
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toBe('ok: the worker read /etc/hostname: true');
  });
});
