// Issue 13: denials Node 22 and 24 hide from a plain reading of errors and events, learned from the
// source. Each fixture is a real package from npm; each profile is checked on a pristine copy with
// exactly the printed flags, and learning on 22/24 takes at most two runs more than on 26 (pinned and newest).
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { leftoverProcesses, copyFixture, nodeBinary, removeCopies, root, runCli, runNode, type ProfileJson, PINNED_AND_LATEST } from '../helpers/e2e.js';

interface Case {
  fixture: string;
  entry: string;
  granularity: 'file' | 'deps';
  /** The whole profile, `D` standing for the fixture copy. */
  flags: (major: number, which: 'pinned' | 'latest') => string[];
  /** Runs (verification included) on each line, pinned and newest build. */
  runs: Record<number, number>;
  latestRuns?: Record<number, number>;
  /** Also run from a pristine copy without each grant in turn: every one must be needed (issue 14). */
  dropEach?: true;
  /** The builds to learn on, when not the pinned and newest build of 22, 24 and 26. */
  builds?: (readonly [number, 'pinned' | 'latest'])[];
}

// The pinned build of each line and its newest patch release (24.22.3 still has audit mode's addon gap).
const builds = PINNED_AND_LATEST;

const cases: Case[] = [
  {
    // napi-rs's loader swallows ERR_DLOPEN_DISABLED and throws "Cannot find native binding" after
    // looking for its WASM build: the addon is learned at the source, the WASM lookup set aside (24).
    fixture: 'apps/addon-loader',
    entry: 'index.js',
    granularity: 'file',
    flags: (_m, which) => [
      '--permission',
      // The newest builds' resolver checks the read of the addon file it resolves (node-versions.ts,
      // resolverChecksAddonRead); the pinned builds do not, and there the grant would be one the app does without.
      ...(which === 'latest' ? ['--allow-fs-read=D/node_modules/@node-rs/bcrypt-linux-x64-gnu/bcrypt.linux-x64-gnu.node'] : []),
      '--allow-fs-read=D/node_modules/@node-rs/bcrypt-linux-x64-gnu/package.json',
      '--allow-fs-read=D/node_modules/@node-rs/bcrypt/binding.js',
      '--allow-fs-read=D/node_modules/@node-rs/bcrypt/index.js',
      '--allow-fs-read=D/node_modules/@node-rs/bcrypt/package.json',
      // napi-rs reads /usr/bin/ldd in a try/catch (a musl probe with a fallback): a candidate, left out,
      // on 24 too, where the addon cuts the first audit run short: audit mode let the read through.
      '--allow-addons',
    ],
    // 26 verifies in 2 runs (audit, folded verification). 22: two observe runs (the second gets past
    // the addon) and the verification. 24: the audit run is cut short by the refused addon, so a second
    // audit run with it granted sees the rest, and the verification follows. The newest 24 checks the
    // addon file's read in enforce mode without reporting it in audit mode: it is granted with the addon
    // from the refusal, which names the file (without that, 6 runs there; before the second audit run, 4).
    // The loader's rewritten error carries no denial, so what the run saw at the source is its cause
    // and is not tightened away (which cost a failed verification run each on 22 and the newest 24).
    runs: { 22: 3, 24: 3, 26: 2 },
    dropEach: true,
  },
  {
    // pino's file transport runs in a Worker and creates logs/ there with the callback form of
    // fs.mkdir, which throws its denial at once; the main thread only sees pino's own message. On 22
    // the Worker's recorder reports it as it leaves fs.
    fixture: 'apps/logger-worker',
    entry: 'index.js',
    granularity: 'deps',
    flags: () => ['--permission', '--allow-fs-read=D/node_modules', '--allow-fs-write=D/logs/*', '--allow-worker'],
    // 22: the observe run is denied logs/ (mkdir: granted as logs/* at once), the next run starts cleanly.
    runs: { 22: 3, 24: 2, 26: 2 },
  },
  {
    // A WASM runtime loader (written for this repository: no npm package was found that catches WASI's
    // denial the same way) that rethrows WASI's denial as its own error, in the main thread, a Worker
    // and a forked child. Before 24 nothing publishes it: the recorder sees it leave the constructor.
    fixture: 'apps/wasi-loader',
    entry: 'index.js',
    granularity: 'file',
    flags: () => ['--permission', '--allow-child-process', '--allow-worker', '--allow-wasi'],
    runs: { 22: 3, 24: 2, 26: 2 },
  },
  {
    // The same loader as ES modules: node:wasi comes in through a named import (main thread, Worker)
    // and import() (the child) before anything requires it. The recorder wraps the constructor when
    // node:wasi first loads (at Node's experimental-feature warning); without that, 20 and 22 end
    // "app-failed … without a permission denial". 20 does not grant the entry file by itself.
    fixture: 'apps/wasi-loader-esm',
    entry: 'index.js',
    granularity: 'file',
    flags: (m) => [
      m === 20 ? '--experimental-permission' : '--permission',
      ...(m === 20 ? ['--allow-fs-read=D/index.js'] : []),
      '--allow-fs-read=D/runtime.js',
      '--allow-child-process',
      '--allow-worker',
      '--allow-wasi',
    ],
    runs: { 20: 3, 22: 3, 24: 2, 26: 2 },
    builds: [[20, 'pinned'], ...builds],
  },
];

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

describe.each(cases)('$fixture', (c) => {
  it.each(c.builds ?? [...builds])(
    'is learned on Node %i (%s build) and verified from a pristine copy with exactly the printed flags',
    async (major, which) => {
      const dir = copyFixture(c.fixture);
      const r = await runCli(['--node', nodeBinary(major, which), '--granularity', c.granularity, '--format', 'json', c.entry], { cwd: dir });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const profile = JSON.parse(String(r.stdout)) as ProfileJson;
      expect(profile.verified).toBe(true);
      const expected = c.flags(major, which).map((f) => f.replace(/=D(?=\/|$)/, `=${dir}`));
      expect(profile.flags).toEqual(expected);
      const runs = which === 'latest' ? (c.latestRuns ?? c.runs) : c.runs;
      expect(profile.runs).toBe(runs[major]);
      // Issue 13's bound: no line takes more than two runs over 26 on the same kind of build.
      expect(profile.runs).toBeLessThanOrEqual(runs[26]! + 2);

      rmSync(dir, { recursive: true, force: true });
      cpSync(path.join(root, 'fixtures', c.fixture), dir, { recursive: true, verbatimSymlinks: true });
      const run = await runNode(major, profile.flags, c.entry, [], dir, {}, which);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toMatch(/^ok:/m);
      const bare = await runNode(major, [profile.flags[0]!], c.entry, [], dir, {}, which);
      expect(bare.exitCode).not.toBe(0);
      if (!c.dropEach) return;
      const removable: string[] = [];
      for (const [i, flag] of profile.flags.entries()) {
        if (i === 0) continue;
        rmSync(dir, { recursive: true, force: true });
        cpSync(path.join(root, 'fixtures', c.fixture), dir, { recursive: true, verbatimSymlinks: true });
        const without = await runNode(
          major,
          profile.flags.filter((_, j) => j !== i),
          c.entry,
          [],
          dir,
          {},
          which,
        );
        if (without.exitCode === 0) removable.push(flag);
      }
      expect(removable).toEqual([]);
    },
  );
});
