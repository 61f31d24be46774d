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

/** Run `binary --version` without NODE_OPTIONS, stdin closed; its stdout, or why it failed. */
function ask(binary: string, timeoutMs: number): Promise<Answer> {
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
    const child = spawn(binary, ['--version'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
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

/**
 * `node --version` answers before Node sets up JavaScript at all: about 10 ms of CPU against 60 for a
 * `node -e` script on 26 (median of 3, load 5), and this is asked at every learn. Node's answer is one line,
 * `v26.10.0`; Deno and Bun answer otherwise. (A script could also read process.release.name, but what
 * lies about its version can lie there too.)
 */
const NODE_VERSION_LINE = /^(v\d+\.\d+\.\d+\S*)\r?\n?$/;
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
  if (key === undefined) return ask(binary, PROBE_TIMEOUT_MS);
  let answer = asked.get(key);
  if (!answer) asked.set(key, (answer = ask(binary, PROBE_TIMEOUT_MS)));
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
  const v = NODE_VERSION_LINE.exec(r.stdout)?.[1];
  if (r.failed || !v || !parseNodeVersion(v)) {
    // A failure is not kept: the next probe asks again (a binary that timed out under load may answer).
    if (key !== undefined) asked.delete(key);
    const why = r.missing ? 'no such file' : r.failed ? `failed: ${r.failed}` : 'it did not answer like Node.js';
    throw new PermlearnError('usage', `--node ${binary} is not a usable Node.js binary (${why})`);
  }
  const caps = checked(v, binary);
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
