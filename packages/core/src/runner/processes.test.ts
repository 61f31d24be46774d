import { spawn } from 'node:child_process';
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
