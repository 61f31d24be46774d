import { describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';
import { probeNode } from './node-binary.js';

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

  it.each([
    ['/no/such/node', 'no such file'],
    ['/bin/true', 'it did not answer like Node.js'],
    ['/bin/false', 'failed: exit code 1'],
  ])('%s: a one-line usage error saying why', async (binary, why) => {
    await expect(probeNode(binary)).rejects.toThrow(`--node ${binary} is not a usable Node.js binary (${why})`);
  });
});
