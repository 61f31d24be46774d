import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { descendantsByScan, descendantsOf, spawnGroup, spawnHeld, stopGroup } from './processes.js';

// Every process of the app must be found to be stopped: the children lists find what the scan finds.
describe.runIf(process.platform === 'linux')('descendantsOf', () => {
  it('finds every process below a leader, nested ones too, as the scan of the whole machine does', async () => {
    // A shell with two sleeps, one of them below a second shell.
    const leader = spawn('sh', ['-c', 'sleep 30 & sh -c "sleep 30; :" & wait'], { detached: true, stdio: 'ignore' });
    const pid = leader.pid!;
    const exited = new Promise((resolve) => leader.once('exit', resolve));
    try {
      let found: number[] = [];
      for (let i = 0; i < 100 && found.length < 3; i++) {
        await sleep(20);
        found = descendantsOf(pid);
      }
      expect(found).toHaveLength(3);
      expect([...found].sort()).toEqual([...descendantsByScan(pid)].sort());
    } finally {
      await stopGroup(pid, 1000);
    }
    await exited;
    expect(descendantsOf(pid)).toEqual([]);
  });
});

/** A process is over: gone, or a zombie no one has reaped yet (a container's init may never). */
function over(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe.runIf(process.platform === 'linux')('stopGroup', () => {
  it('a leader that leaves at SIGTERM before the rest of its group: the rest is still waited for, then killed', async () => {
    // The sleep ignores SIGTERM (ignored signals survive exec); the shell leading the group does not.
    const leader = spawn('sh', ['-c', '(trap "" TERM; exec sleep 30) & wait'], { detached: true, stdio: 'ignore' });
    const pid = leader.pid!;
    const exited = new Promise((resolve) => leader.once('exit', resolve));
    let member: number[] = [];
    for (let i = 0; i < 100 && member.length < 1; i++) {
      await sleep(20);
      member = descendantsOf(pid);
    }
    expect(member).toHaveLength(1);
    await sleep(100); // the trap is set before the exec
    const started = Date.now();
    await stopGroup(pid, 500, exited);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    // SIGKILL is sent; the kernel takes a moment to end it.
    for (let i = 0; i < 50 && !over(member[0]!); i++) await sleep(20);
    expect(over(member[0]!)).toBe(true);
  });
});

/** What a process wrote to stdout, and how it ended. */
function outcome(child: ReturnType<typeof spawnGroup>) {
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  return new Promise<{ out: string; code: number | null }>((resolve) => child.once('close', (code) => resolve({ out, code })));
}

describe.runIf(process.platform === 'linux')('spawnGroup', () => {
  it('runs the command itself once released: same pid, the arguments as given, the holding descriptor closed', async () => {
    const script = 'echo "$$"; printf "%s|" "$@"; echo; test -e /proc/self/fd/3 && echo fd3 open || echo fd3 closed';
    const child = spawnGroup('/bin/sh', ['-c', script, 'sh', 'a b', '$HOME', ''], { stdio: ['ignore', 'pipe', 'ignore'] });
    const { out, code } = await outcome(child);
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([String(child.pid), 'a b|$HOME||', 'fd3 closed', '']);
  });

  it('gives the command exactly its environment: the variables a shell sets for itself are put back or unset', async () => {
    for (const env of [{ A: '1' }, { A: 'x y', PWD: '/elsewhere', SHLVL: '4', _: '/usr/bin/permlearn', PERMLEARN_HELD: 'kept?' }]) {
      const child = spawnGroup('/usr/bin/env', [], { cwd: os.tmpdir(), env, stdio: ['ignore', 'pipe', 'ignore'] });
      const { out, code } = await outcome(child);
      expect(code).toBe(0);
      const expected = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      expect(out.trim().split('\n').sort()).toEqual(expected.sort());
    }
  });

  it('runs nothing when permlearn goes before releasing it: the shell reads the end of the pipe and exits', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'permlearn-held-'));
    try {
      const marker = path.join(dir, 'ran');
      const { child, release } = spawnHeld(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      await sleep(200); // time enough for node to have started, were it not held
      expect(existsSync(marker)).toBe(false);
      release(false);
      expect((await outcome(child)).code).toBe(125);
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a command that cannot be found fails to spawn as Node reports it, with nothing started', async () => {
    const child = spawnGroup('permlearn-no-such-command', [], { stdio: 'ignore', env: { PATH: '/nonexistent' } });
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    expect(err.code).toBe('ENOENT');
    expect(child.pid).toBeUndefined();
  });
});
