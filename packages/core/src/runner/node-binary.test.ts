import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';
import { prefetchNodeProbe, probeNode } from './node-binary.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'permlearn-probe-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A stand-in binary that notes each time it is run in a file, then answers as `body` says. */
function counted(name: string, body: string): { binary: string; runs: () => number } {
  const binary = path.join(tmp, name);
  const log = `${binary}.runs`;
  writeFileSync(log, '');
  writeFileSync(binary, `#!/bin/sh\necho run >> '${log}'\n${body}\n`);
  chmodSync(binary, 0o755);
  return { binary, runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

describe('probeNode', () => {
  it('the Node running permlearn is not asked: its version is at hand', async () => {
    const caps = await probeNode(process.execPath);
    expect(caps.version.raw).toBe(process.version);
  });

  it('another binary is asked once per process: the same answer comes back without a second run', async () => {
    const first = await probeNode(nodeBinary(26));
    expect(first.version.major).toBe(26);
    expect(await probeNode(nodeBinary(26))).toBe(first);
    expect((await probeNode(nodeBinary(22))).version.major).toBe(22);
  });

  it('a prefetched probe is the one probeNode uses: the binary runs once', async () => {
    const fake = counted('node-26', `echo v26.1.0`);
    prefetchNodeProbe(fake.binary);
    prefetchNodeProbe(fake.binary);
    expect((await probeNode(fake.binary)).version.raw).toBe('v26.1.0');
    expect(await probeNode(fake.binary)).toBe(await probeNode(fake.binary));
    expect(fake.runs()).toBe(1);
  });

  it('a prefetched failure is judged as probeNode would, then not kept: the next probe asks again', async () => {
    const fake = counted('not-node', 'exit 3');
    prefetchNodeProbe(fake.binary);
    await expect(probeNode(fake.binary)).rejects.toThrow(`--node ${fake.binary} is not a usable Node.js binary (failed: exit code 3)`);
    expect(fake.runs()).toBe(1);
    await expect(probeNode(fake.binary)).rejects.toThrow('(failed: exit code 3)');
    expect(fake.runs()).toBe(2);
  });

  it('a binary too old for the permission model is refused, prefetched or not', async () => {
    const fake = counted('node-18', `echo v18.20.0`);
    prefetchNodeProbe(fake.binary);
    await expect(probeNode(fake.binary)).rejects.toThrow('Node v18.20.0 has no permission model');
  });

  it('a binary that answers --version otherwise than Node (Deno, Bun) is not taken for Node', async () => {
    for (const [name, answer] of [
      ['deno', 'deno 2.1.4 (stable, release, x86_64-unknown-linux-gnu)'],
      ['bun', '1.1.38'],
    ] as const) {
      const fake = counted(name, `echo '${answer}'`);
      await expect(probeNode(fake.binary)).rejects.toThrow(`--node ${fake.binary} is not a usable Node.js binary (it did not answer like Node.js)`);
    }
  });

  it.each([
    ['/no/such/node', 'no such file'],
    ['/bin/true', 'it did not answer like Node.js'],
    ['/bin/false', 'failed: exit code 1'],
  ])('%s: a one-line usage error saying why', async (binary, why) => {
    await expect(probeNode(binary)).rejects.toThrow(`--node ${binary} is not a usable Node.js binary (${why})`);
  });
});
