// Finding out which Node a binary is, before running anything under it.
import { execa } from 'execa';
import { capabilitiesOf, MIN_MAJOR, parseNodeVersion, type Capabilities } from '../model/node-versions.js';
import { PermlearnError } from '../errors.js';

/** Ask a binary for its version; fail clearly when it is not Node, or too old for the permission model. */
export async function probeNode(binary: string): Promise<Capabilities> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const script = 'process.stdout.write(JSON.stringify({ v: process.version, r: process.release && process.release.name }))';
  const r = await execa(binary, ['-e', script], { reject: false, timeout: 15_000, env, extendEnv: false, stdin: 'ignore' });
  let info: { v?: string; r?: string } = {};
  try {
    info = JSON.parse(String(r.stdout)) as typeof info;
  } catch {
    // fall through: not a Node binary
  }
  const version = info.v ? parseNodeVersion(info.v) : undefined;
  if (r.failed || info.r !== 'node' || !version) {
    const why = (r as { code?: string }).code === 'ENOENT' ? 'no such file' : r.failed ? String(r.shortMessage ?? 'failed').split('\n')[0] : 'it did not answer like Node.js';
    throw new PermlearnError('usage', `--node ${binary} is not a usable Node.js binary (${why})`);
  }
  if (version.major < MIN_MAJOR) {
    throw new PermlearnError('usage', `Node ${version.raw} has no permission model; permlearn needs Node ${MIN_MAJOR} or later`);
  }
  return capabilitiesOf(version);
}
