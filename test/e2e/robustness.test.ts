// permlearn under stress: signals at every phase, SIGKILL, a hanging exercise command, bad numbers,
// an unusable temporary folder, an entry or cwd of the wrong type. Each on the real CLI and Node 26.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, processesMentioning, removeCopies, runCli, sessionsOf } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const NODE = nodeBinary(26);

async function until(what: string, test: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Send `sig` and measure how long permlearn takes to exit. */
async function interrupt(cli: ReturnType<typeof runCli>, sig: NodeJS.Signals) {
  const sent = Date.now();
  cli.kill(sig);
  const r = await cli;
  return { r, ms: Date.now() - sent };
}

function expectInterrupted({ r, ms }: Awaited<ReturnType<typeof interrupt>>, sig: string, pid: number | undefined): void {
  expect(r.exitCode).toBe(130);
  // Answered at once, not when the phase ends: a hanging app, exercise or verification run never ends by
  // itself, and the planning test checks its output for the end of planning. The bound only says "not
  // hung": it is loose because a shared 2-core machine under parallel suites is slow (5 s was exceeded
  // at load 15-20); the figure on a quiet machine is in the README.
  expect(ms, `answered after ${ms} ms`).toBeLessThan(10_000);
  const stderr = String(r.stderr).trim();
  expect(stderr.split('\n').pop()).toBe(`permlearn: interrupted (${sig}); every process of the app was stopped`);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(sessionsOf(pid)).toEqual([]);
}

describe('signals are answered within a second, at any phase', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s while the app runs', async (sig) => {
    const dir = copyFixture('failing/hangs');
    const cli = runCli(['--node', NODE, '--max-run-time', '60', 'index.js'], { cwd: dir });
    await until('the app', () => processesMentioning(path.join(dir, 'index.js')).length > 0);
    expectInterrupted(await interrupt(cli, sig), sig, cli.pid);
  });

  it('SIGTERM while a long list of reads is planned (--granularity file)', async () => {
    const dir = copyFixture('lifecycle/many-files');
    const n = 20_000;
    mkdirSync(path.join(dir, 'data'));
    for (let i = 0; i < n; i++) writeFileSync(path.join(dir, 'data', `f${i}`), '');
    const cli = runCli(['--node', NODE, '--strategy', 'audit', '--granularity', 'file', '--max-run-time', '60', 'index.js', '--', String(n)], { cwd: dir });
    // The audit run reads every file and exits; permlearn then plans 20,000 grants.
    await until('the audit run', () => processesMentioning(path.join(dir, 'index.js')).length > 0);
    await until('the audit run to end', () => processesMentioning(path.join(dir, 'index.js')).length === 0);
    await sleep(100);
    const answer = await interrupt(cli, 'SIGTERM');
    console.log('DEBUG', answer.ms, answer.r.signal, answer.r.exitCode, String(answer.r.stderr).slice(-600));
    expectInterrupted(answer, 'SIGTERM', cli.pid);
    // Answered during planning, not at its end: the audit run's line is printed once its 20,000 grants
    // are planned (3.4 s after the run on a quiet machine, longer under load, as is the answer itself).
    expect(String(answer.r.stderr)).not.toMatch(/to grant; confirming in enforce mode/);
  }, 90_000); // 18 s on a shared 2-core machine; the audit run of 20,000 reads alone took 26 s at its busiest (3× that)

  it('SIGINT while an exercise command runs', async () => {
    const dir = copyFixture('lifecycle/hanging-exercise');
    const cli = runCli(['--node', NODE, '--ready-stdout', '^ready', '--max-run-time', '60', '--exercise', './exercise.sh', 'server.js'], { cwd: dir });
    await until('the exercise command', () => processesMentioning('exercise.sh-holder').some((p) => p.includes(dir)));
    expectInterrupted(await interrupt(cli, 'SIGINT'), 'SIGINT', cli.pid);
  });

  it('SIGTERM during the verification run', async () => {
    const dir = copyFixture('lifecycle/hangs-in-verify');
    const cli = runCli(['--node', NODE, '--max-run-time', '60', 'index.js'], { cwd: dir });
    await until('the verification run', () => processesMentioning(path.join(dir, 'index.js')).some((p) => !p.includes('recorder')));
    expectInterrupted(await interrupt(cli, 'SIGTERM'), 'SIGTERM', cli.pid);
  });
});

describe('SIGKILL', () => {
  it('leaves no app process and no session folder behind (the watchdog cleans up)', async () => {
    const dir = copyFixture('failing/hangs');
    const cli = runCli(['--node', NODE, '--max-run-time', '60', 'index.js'], { cwd: dir });
    await until('the app', () => processesMentioning(path.join(dir, 'index.js')).length > 0);
    expect(sessionsOf(cli.pid)).toHaveLength(1);
    cli.kill('SIGKILL');
    const r = await cli;
    expect(r.signal).toBe('SIGKILL');
    await until('the app to be stopped', () => processesMentioning(dir).length === 0, 5_000);
    await until('the session folder to go', () => sessionsOf(cli.pid).length === 0, 5_000);
  });

  it('the next run removes a session folder whose permlearn is gone', async () => {
    const tmp = path.join(copyFixture('failing/hangs'), 'tmp');
    mkdirSync(tmp);
    // A folder as a killed permlearn leaves it (the watchdog could not run either): its owner is dead.
    const dead = 2 ** 22 + 12345; // above the default pid_max: no such process
    const stale = path.join(tmp, 'permlearn-AbC123');
    mkdirSync(stale);
    writeFileSync(path.join(stale, 'owner.json'), JSON.stringify({ pid: dead }));
    // Not ours: a folder without an owner file, and one whose owner is alive (this test).
    mkdirSync(path.join(tmp, 'permlearn-keep01'));
    mkdirSync(path.join(tmp, 'permlearn-live01'));
    writeFileSync(path.join(tmp, 'permlearn-live01', 'owner.json'), JSON.stringify({ pid: process.pid }));
    const dir = copyFixture('scopes/read-config');
    const r = await runCli(['--node', NODE, 'index.js'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), NO_COLOR: '1', TMPDIR: tmp },
    });
    expect(r.exitCode).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(tmp).sort()).toEqual(['permlearn-keep01', 'permlearn-live01']);
  });
});

describe('exercise commands are bounded by --max-run-time', () => {
  it('a command whose grandchild holds the pipe is stopped, group and all', async () => {
    const dir = copyFixture('lifecycle/hanging-exercise');
    const started = Date.now();
    const r = await runCli(
      ['--node', NODE, '--ready-stdout', '^ready', '--max-run-time', '3', '--grace', '0.5', '--max-runs', '3', '--exercise', './exercise.sh', 'server.js'],
      { cwd: dir, timeout: 60_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    expect(r.exitCode).toBe(3);
    expect(String(r.stderr)).toMatch(/the exercise command `\.\/exercise\.sh` timed out with no permission denial/);
    // One learning run: readiness, then 3 s of exercise; far from the 1000 s the grandchild sleeps.
    expect(seconds).toBeLessThan(20);
    expect(processesMentioning('exercise.sh-holder').filter((p) => p.includes(dir))).toEqual([]);
  }, 60_000);
});

describe('bad input: a one-line usage error, exit 2', () => {
  it.each<[string[], string]>([
    [['--max-run-time', '3000000'], "--max-run-time must be a number of seconds from 0.001 to 2000000, got '3000000'"],
    [['--ready-port', 'abc'], "--ready-port must be a whole number from 1 to 65535, got 'abc'"],
    [['--max-runs', '-1'], "--max-runs must be a whole number from 1 to 100000, got '-1'"],
    [['--grace', '0'], "--grace must be a number of seconds from 0.001 to 2000000, got '0'"],
    [['--timeout', '1e9'], "--timeout must be a number of seconds from 0.001 to 2000000, got '1e9'"],
    [['--workspace', '--concurrency', '2.5'], "--concurrency must be a whole number from 1 to 1024, got '2.5'"],
  ])('%j', async (args, message) => {
    const dir = copyFixture('scopes/read-config');
    const r = await runCli(['--node', NODE, ...args, ...(args.includes('--workspace') ? [] : ['index.js'])], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toBe(`permlearn: ${message}`);
  });

  it('an entry that is a directory', async () => {
    const dir = copyFixture('scopes/read-config');
    mkdirSync(path.join(dir, 'lib'));
    const r = await runCli(['--node', NODE, 'lib'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toBe(`permlearn: entry ${path.join(dir, 'lib')} is a directory; give the file node should run`);
  });

  it('a --cwd that is a file', async () => {
    const dir = copyFixture('scopes/read-config');
    const r = await runCli(['--node', NODE, '--cwd', 'index.js', 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toBe(`permlearn: --cwd ${path.join(dir, 'index.js')} is not a directory`);
  });
});

describe('an unusable temporary folder: one line, exit 10', () => {
  it.each<[string, (dir: string) => string, string]>([
    ['missing', (dir) => path.join(dir, 'no-such-folder'), 'does not exist'],
    ['a file', (dir) => path.join(dir, 'config.json'), 'is not a folder'],
    // sysfs refuses new folders even to root
    ['read-only', () => '/sys', 'is not writable'],
  ])('TMPDIR %s', async (_name, tmpOf, why) => {
    const dir = copyFixture('scopes/read-config');
    const tmp = tmpOf(dir);
    const r = await runCli(['--node', NODE, 'index.js'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), NO_COLOR: '1', TMPDIR: tmp },
    });
    expect(r.exitCode).toBe(10);
    // After the line saying what is learned, one line saying why not.
    const lines = String(r.stderr).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(`permlearn: the temporary folder ${tmp} ${why}; permlearn keeps its session files there: set TMPDIR to a writable folder`);
  });
});
