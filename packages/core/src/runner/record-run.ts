// `permlearn record -- <command>`: run a service unchanged with the record preload in NODE_OPTIONS, so
// that every Node process it starts records what it uses (complain mode). Stops with the command.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PermlearnError } from '../errors.js';
import { nodeOptionsQuote } from '../model/render.js';
import { probeNode } from './node-binary.js';
import { ensureRecordKey, RECORD_KEY_ENV } from './record-files.js';
import { signalTree, spawnGroup, stopGroup, untrackGroup } from './processes.js';
import { RECORDER_DIR } from './own-files.js';

/** The preload users add to their own start command (`--require permlearn/record`, or this path). */
export const RECORD_PRELOAD = path.join(RECORDER_DIR, 'record.cjs');
/** The preload and the parts it requires from beside itself (listed once, in record-util.cjs); read
 *  when a service is recorded under a profile, not at every start. */
export function recordPreloadFiles(): string[] {
  const { RECORD_FILES } = createRequire(import.meta.url)(path.join(RECORDER_DIR, 'record-util.cjs')) as { RECORD_FILES: string[] };
  return RECORD_FILES.map((name) => path.join(RECORDER_DIR, name));
}

export interface RecordOptions {
  command: string[];
  /** The folder the records go to (created 0700). */
  out: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The Node binary the command runs (to know whether it has audit mode); default: the command itself
   *  when it is a node binary, else `node` on PATH. */
  node?: string;
  /** Enforce these flags (a committed profile's) and record what they deny, instead of audit mode. */
  enforceFlags?: string[];
  /** Watch the JS API (observe mode) even where Node has audit mode (24+): a fraction of audit mode's
   *  cost a check, but Node's own checks are not seen (each record lists what it could not see). */
  observe?: boolean;
  /** Milliseconds between flushes of each record. */
  intervalMs?: number;
  graceMs?: number;
}

export interface RecordRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  mode: 'audit' | 'enforce' | 'observe';
  node: string;
  /** The key file the records are signed with, when permlearn keeps it (none given in PERMLEARN_RECORD_KEY). */
  keyFile?: string;
}

/** Run the command to its end (or until permlearn is stopped, which stops it first). */
export async function recordCommand(options: RecordOptions): Promise<RecordRun> {
  if (options.command.length === 0) throw new PermlearnError('usage', 'permlearn record needs a command after --');
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const out = path.resolve(cwd, options.out);
  try {
    mkdirSync(out, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PermlearnError('usage', `--out ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const first = options.command[0]!;
  const node = options.node ?? (/^node(\d+)?$|\/node$/.test(path.basename(first)) || first.endsWith('/node') ? first : 'node');
  const caps = await probeNode(node);
  if (options.observe && options.enforceFlags)
    throw new PermlearnError('usage', '--observe records what the service uses, --profile what a profile denies: give one of them');
  const mode = options.enforceFlags ? 'enforce' : caps.audit && !options.observe ? 'audit' : 'observe';
  const env = { ...(options.env ?? process.env) };
  const parts = [`--require ${nodeOptionsQuote(RECORD_PRELOAD)}`];
  if (mode === 'audit') parts.unshift('--permission-audit');
  if (mode === 'enforce') {
    // The recorder writes its folder (a rename is also checked as a read of the old path, measured on
    // 22 and 26); the reads of the preload and the module it requires are granted too.
    parts.unshift(
      ...options.enforceFlags!.map(nodeOptionsQuote),
      nodeOptionsQuote(`--allow-fs-write=${out}/*`),
      nodeOptionsQuote(`--allow-fs-read=${out}/*`),
      ...recordPreloadFiles().map((f) => nodeOptionsQuote(`--allow-fs-read=${f}`)),
    );
  }
  // The records are signed: with the key given, or one kept beside the folder (out of the service's reach when enforced).
  const { key, file: keyFile } = ensureRecordKey(out, env);
  env[RECORD_KEY_ENV] = key;
  env.NODE_OPTIONS = [env.NODE_OPTIONS, ...parts].filter(Boolean).join(' ');
  env.PERMLEARN_RECORD = out;
  if (options.intervalMs !== undefined) env.PERMLEARN_RECORD_INTERVAL = String(options.intervalMs);
  const child = spawnGroup(first, options.command.slice(1), { cwd, env, stdio: 'inherit' });
  const started = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (err) => reject(new PermlearnError('usage', `cannot start ${first}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
  });
  // A signal to permlearn goes on to the service, which flushes its records and ends.
  const forward = (sig: NodeJS.Signals) => () => signalTree(started, sig);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, sig) => resolve([code, sig])));
    await stopGroup(started, options.graceMs ?? 3000); // whatever it left behind
    return { exitCode, signal, mode, node: caps.version.raw, ...(keyFile ? { keyFile } : {}) };
  } finally {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    untrackGroup(started);
  }
}
