import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { descendantsByScan, descendantsOf, stopGroup } from './processes.js';

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
