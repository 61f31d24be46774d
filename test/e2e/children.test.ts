// Issue 13: denials in Node children the app starts. A real test runner's forked workers (mocha
// --parallel, workerpool), a parent that rebuilds its worker's execArgv as a key→value map (so the
// worker keeps only the last --allow-fs-read), by hand and as a real build tool does it (@jsenv/core),
// and a child spawned with an environment of its own.
// Each is learned on 22, 24 and 26, pinned and newest build, and verified on a pristine copy with
// exactly the printed flags, in at most as many runs as on 26 plus two.
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  baseEnv,
  copyFixture,
  leftoverProcesses,
  removeCopies,
  root,
  runCli,
  runNode,
  nodeBinary,
  type ProfileJson,
  PINNED_AND_LATEST,
} from '../helpers/e2e.js';

type Build = 'pinned' | 'latest';

interface Case {
  fixture: string;
  granularity: 'file' | 'deps';
  /** The whole profile, `D` standing for the fixture copy. */
  flags: (major: number) => string[];
  /** Runs (verification included) on each line; the same on the pinned and newest build. */
  runs: Record<number, number>;
  /** The flags must reach the app in NODE_OPTIONS: its child loses what the command line gives. */
  nodeOptions?: true;
  builds: (readonly [number, Build])[];
  /** A fixture with a large node_modules takes longer to copy (twice per test) on a busy machine. */
  timeoutMs?: number;
}

const all = PINNED_AND_LATEST;

const cases: Case[] = [
  {
    // The tests run in worker processes that workerpool forks with mocha's execArgv; the data file read
    // and the report folder written there reach the parent only as a failed test.
    fixture: 'apps/test-runner-fork',
    granularity: 'deps',
    flags: () => [
      '--permission',
      '--allow-fs-read=D/data',
      '--allow-fs-read=D/node_modules',
      '--allow-fs-read=D/test',
      '--allow-fs-write=D/reports/*',
      '--allow-child-process',
    ],
    // 22 has no audit mode: the observe run (the report folder's mkdir is denied: reports/* at once), a
    // clean run, verification.
    runs: { 22: 3, 24: 2, 26: 2 },
    builds: [...all],
  },
  {
    // The worker gets `fork(file, undefined, { execArgv })` with the execArgv rebuilt from an object:
    // the command line's grants cannot reach it, NODE_OPTIONS does.
    fixture: 'apps/rebuilt-execargv',
    granularity: 'deps',
    // The worker file is the forked child's own entry: Node grants it to the child (22+), so it is not learned.
    flags: () => ['--permission', '--allow-fs-read=D/conf', '--allow-fs-read=D/data', '--allow-child-process'],
    runs: { 22: 3, 24: 2, 26: 2 },
    nodeOptions: true,
    // The newest builds behave as the pinned ones here (measured); 24.22.3 stands for them.
    builds: [
      [26, 'pinned'],
      [24, 'pinned'],
      [22, 'pinned'],
      [24, 'latest'],
    ],
  },
  {
    // A real build tool: @jsenv/core 30.4.1 runs task.js in a child it forks with its own execArgv
    // parsed into a flag → value map and rebuilt, so on the command line the child keeps only the last
    // --allow-fs-read and is denied node_modules; NODE_OPTIONS reaches it whole.
    fixture: 'apps/jsenv-execute',
    granularity: 'deps',
    flags: () => [
      '--permission',
      '--allow-fs-read=D/conf',
      '--allow-fs-read=D/data',
      '--allow-fs-read=D/node_modules',
      '--allow-fs-read=D/task.js',
      '--allow-child-process',
    ],
    // 22 has no audit mode: the observe run, one enforce run, verification.
    runs: { 22: 3, 24: 2, 26: 2 },
    nodeOptions: true,
    // Its 4,700 files make each test slow to copy: the newest 26 and 24 builds (measured the same,
    // 2 runs each) are left to scripts/bench-hidden.mjs.
    builds: [
      [26, 'pinned'],
      [24, 'pinned'],
      [22, 'pinned'],
      [22, 'latest'],
    ],
    timeoutMs: 240_000,
  },
  {
    // A child spawned with `env: { PATH }` still gets the permission flags from Node (22+), and the
    // recorder from the recorder's child_process wrapper; 24's audit mode passes nothing on by itself.
    fixture: 'apps/spawn-own-env',
    granularity: 'file',
    // The child's file is its own entry, which Node grants the child (22+): not learned.
    flags: () => ['--permission', '--allow-fs-read=D/data/greeting.json', '--allow-child-process'],
    runs: { 22: 2, 24: 2, 26: 2 },
    builds: [
      [26, 'pinned'],
      [24, 'pinned'],
      [22, 'pinned'],
    ],
  },
];

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

/** What the printed line says to run: flags for the command line, or a NODE_OPTIONS assignment. */
function printed(stdout: string, nodeOptions: boolean, flags: string[]): { argv: string[]; env: Record<string, string> } {
  const line = stdout.trim().split('\n').at(-1)!;
  if (!nodeOptions) return { argv: flags, env: {} };
  const m = /^NODE_OPTIONS='([^']*)'$/.exec(line);
  expect(m, line).not.toBeNull();
  return { argv: [], env: { NODE_OPTIONS: m![1]! } };
}

describe.each(cases)('$fixture', (c) => {
  it.each(c.builds)(
    'is learned on Node %i (%s build) and verified from a pristine copy with exactly the printed flags',
    async (major, which) => {
      const dir = copyFixture(c.fixture);
      const r = await runCli(['--node', nodeBinary(major, which), '--granularity', c.granularity, '--format', 'json', 'index.js'], { cwd: dir });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const profile = JSON.parse(String(r.stdout)) as ProfileJson & { delivery?: string };
      expect(profile.verified).toBe(true);
      expect(profile.flags).toEqual(c.flags(major).map((f) => f.replace(/=D(?=\/|$)/, `=${dir}`)));
      expect(profile.runs).toBe(c.runs[major]);
      expect(profile.runs).toBeLessThanOrEqual(c.runs[26]! + 2);
      expect(profile.delivery).toBe(c.nodeOptions ? 'node-options' : undefined);

      // What the text report prints last is what a user copies.
      const saved = `${dir}.profile.json`;
      writeFileSync(saved, String(r.stdout));
      const shown = await runCli(['render', '-q', saved], { cwd: dir });
      rmSync(saved, { force: true });
      expect(shown.exitCode, String(shown.stderr)).toBe(0);
      const use = printed(String(shown.stdout), c.nodeOptions === true, profile.flags);
      if (c.nodeOptions) expect(use.env.NODE_OPTIONS).toBe(profile.flags.join(' '));

      rmSync(dir, { recursive: true, force: true });
      cpSync(path.join(root, 'fixtures', c.fixture), dir, { recursive: true, verbatimSymlinks: true });
      const run = await runNode(major, use.argv, 'index.js', [], dir, { env: { ...baseEnv, ...use.env } }, which);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toMatch(/^ok:/m);
      if (c.nodeOptions) {
        // The same flags on the command line do not reach the worker: that is why they go in NODE_OPTIONS.
        const onArgv = await runNode(major, profile.flags, 'index.js', [], dir, {}, which);
        expect(onArgv.exitCode).not.toBe(0);
        expect(String(onArgv.stderr)).toMatch(/ERR_ACCESS_DENIED/);
      }
    },
    c.timeoutMs,
  );
});

// A drop plan is verified the way the profile will run: a profile whose Node child needs its flags in
// NODE_OPTIONS gets its drop-plan runs with the flags there too (on the command line the worker would
// be denied its folders, and the plan would never verify).
describe('apps/rebuilt-execargv as a service, with a drop plan', () => {
  const dropCalls = (plan: string) => plan.split('\n').flatMap((l) => /^process\.permission\.(drop\([^)]*\));/.exec(l)?.[1] ?? []);
  it.each([26, 24])('Node %i: the drop plan is verified with the flags in NODE_OPTIONS', async (major) => {
    const dir = copyFixture('apps/rebuilt-execargv');
    const r = await runCli(
      ['--node', nodeBinary(major), '--granularity', 'deps', '--ready-stdout', '^ok', '--format', 'drop-plan', 'index.js', '--', 'serve'],
      {
        cwd: dir,
      },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const plan = String(r.stdout);
    const flags = ['--permission', `--allow-fs-read=${dir}/conf`, `--allow-fs-read=${dir}/data`, '--allow-child-process'];
    expect(plan.split('\n')[0]).toBe(`// NODE_OPTIONS='${flags.join(' ')}' node ${dir}/index.js`);
    expect(dropCalls(plan)).toEqual([`drop("fs.read", "${dir}/conf")`, `drop("fs.read", "${dir}/data")`, 'drop("child")']);
    expect(plan, String(r.stderr)).not.toMatch(/NOT VERIFIED/);
    expect(String(r.stderr)).toMatch(/drop plan: 3 to drop after start-up, 0 kept, verified/);
  });
});
