// Finding out which Node a binary is, before running anything under it.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { capabilitiesOf, MIN_MAJOR, parseNodeVersion, type Capabilities } from '../model/node-versions.js';
import { PermlearnError } from '../errors.js';

interface Answer {
  stdout: string;
  /** Why the binary could not be run at all (ENOENT, a timeout, a signal, a non-zero exit). */
  failed?: string;
  missing?: boolean;
}

/** Run `binary -e script` without NODE_OPTIONS, stdin closed; its stdout, or why it failed. */
function ask(binary: string, script: string, timeoutMs: number): Promise<Answer> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    let stdout = '';
    let done = false;
    const finish = (a: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const child = spawn(binary, ['-e', script], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ stdout, failed: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < 4096) stdout += chunk;
    });
    child.once('error', (err: NodeJS.ErrnoException) => finish({ stdout, failed: err.code ?? err.message, missing: err.code === 'ENOENT' }));
    child.once('close', (code, signal) => finish(code === 0 ? { stdout } : { stdout, failed: signal ? `killed by ${signal}` : `exit code ${code}` }));
  });
}

/** What a binary said to the probe, by its path and the file's identity (a replaced binary is asked
 *  again): asked once per process, by whoever needs it first (prefetchNodeProbe or probeNode). */
const asked = new Map<string, Promise<Answer>>();
const answered = new Map<string, Capabilities>();

const PROBE_SCRIPT = 'process.stdout.write(JSON.stringify({ v: process.version, r: process.release && process.release.name }))';
const PROBE_TIMEOUT_MS = 15_000;

function identity(binary: string): string | undefined {
  try {
    const s = statSync(binary);
    return `${binary}\0${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function answerOf(binary: string, key: string | undefined): Promise<Answer> {
  if (key === undefined) return ask(binary, PROBE_SCRIPT, PROBE_TIMEOUT_MS);
  let answer = asked.get(key);
  if (!answer) asked.set(key, (answer = ask(binary, PROBE_SCRIPT, PROBE_TIMEOUT_MS)));
  return answer;
}

/**
 * Start asking `binary` for its version now, so that the answer is in when probeNode needs it: the
 * executable does this for a `--node` on the command line while the CLI's own modules load. Nothing is
 * decided here; probeNode judges the answer as if it had asked itself.
 */
export function prefetchNodeProbe(binary: string): void {
  if (binary === process.execPath) return;
  const key = identity(binary);
  if (key !== undefined && !answered.has(key)) void answerOf(binary, key);
}

/** Ask a binary for its version; fail clearly when it is not Node, or too old for the permission model.
 *  The Node running permlearn is not asked: its version is at hand. */
export async function probeNode(binary: string): Promise<Capabilities> {
  if (binary === process.execPath && process.release?.name === 'node') return checked(process.version, binary);
  const key = identity(binary);
  const known = key === undefined ? undefined : answered.get(key);
  if (known) return known;
  const r = await answerOf(binary, key);
  let info: { v?: string; r?: string } = {};
  try {
    info = JSON.parse(r.stdout) as typeof info;
  } catch {
    // fall through: not a Node binary
  }
  if (r.failed || info.r !== 'node' || !info.v || !parseNodeVersion(info.v)) {
    // A failure is not kept: the next probe asks again (a binary that timed out under load may answer).
    if (key !== undefined) asked.delete(key);
    const why = r.missing ? 'no such file' : r.failed ? `failed: ${r.failed}` : 'it did not answer like Node.js';
    throw new PermlearnError('usage', `--node ${binary} is not a usable Node.js binary (${why})`);
  }
  const caps = checked(info.v, binary);
  if (key !== undefined) answered.set(key, caps);
  return caps;
}

function checked(raw: string, binary: string): Capabilities {
  const version = parseNodeVersion(raw);
  if (!version) throw new PermlearnError('usage', `--node ${binary} is not a usable Node.js binary (it did not answer like Node.js)`);
  if (version.major < MIN_MAJOR) {
    throw new PermlearnError('usage', `Node ${version.raw} has no permission model; permlearn needs Node ${MIN_MAJOR} or later`);
  }
  return capabilitiesOf(version);
}
