// A learning session's private temporary folder, holding the recorder permlearn preloads.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { PermlearnError } from '../errors.js';
import { guardFolder } from './processes.js';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import type { FsProbe } from '../model/types.js';
import { secretsUnder } from './exposure.js';
import { createKeys, type RunKeys } from './evidence.js';
import { RECORDER_DIR } from './own-files.js';

/** The fd the recorder writes to; permlearn opens it as a pipe in every learning run. */
export const RECORDER_FD = 3;
/** The fd permlearn writes the run's key into (`node entry` runs); the recorder reads and closes it
 *  before any app code runs. */
export const KEY_FD = 4;

const ESM_HOOKS_SOURCE = path.join(RECORDER_DIR, 'esm-hooks.mjs');
/** The recorder's parts (recorder.cjs is its main; call-sites.cjs and hmac-sha256.cjs are shared with record.cjs). */
export const RECORDER_PARTS = [
  'recorder.cjs',
  'util.cjs',
  'stacks.cjs',
  'call-sites.cjs',
  'denials.cjs',
  'node-options.cjs',
  'evidence.cjs',
  'transport.cjs',
  'hmac-sha256.cjs',
  'module-hooks.cjs',
  'native.cjs',
  'wasi-load.cjs',
  'console.cjs',
  'channels.cjs',
  'starts.cjs',
  'fs.cjs',
  'esm.cjs',
  'dropper.cjs',
];

export interface Session {
  dir: string;
  /** The recorder for learning runs: denials only. */
  recorderPath: string;
  /** The recorder for the observe run: denials plus every module, fs read and child process. */
  observerPath: string;
  /** The recorder for drop-plan verification: applies the drops written to dropFile. */
  dropperPath: string;
  dropFile: string;
  /** For Node without in-thread module hooks (20): an --import file that registers esm-hooks.mjs,
   *  and the files it needs to read. */
  esmRegisterPath: string;
  esmReadPaths: string[];
  /** Where Node children of the app write their reports. */
  eventsDir: string;
  /** The keys the recorder signs its lines with: never written to a file or an environment the app sees. */
  keys: RunKeys;
  dispose(): void;
}

/** The parts as the bundle's table, read once per process (a session writes three recorders). */
let recorderParts: string | undefined;

/**
 * The recorder as one file, with its configuration first: every part under recorder/ becomes a function
 * in a table, and `require('./part.cjs')` between them is answered from the table (anything else goes to
 * Node's require). The copy in a session folder is this one file, the only one the learning flags let
 * the app's processes read, and the one Workers and Node children preload. `require('module')` in a
 * part is answered with this file's own module's constructor, the CommonJS loader's Module, which is the
 * object require('module') returns: requiring it loads lib/module.js and with it the ES module loader and
 * source maps into every thread (about 7 M instructions a thread on 22), which most threads never use.
 */
export function recorderText(config: {
  fd: number;
  ownerPid: number;
  keyFd?: number;
  eventsDir?: string;
  sessionDir?: string;
  observe?: boolean;
  dropFile?: string;
  esmRegister?: string;
}): string {
  const parts = (recorderParts ??= RECORDER_PARTS.map(
    (name) => `  ${JSON.stringify(`./${name}`)}: function (module, exports, require) {\n${readFileSync(path.join(RECORDER_DIR, name), 'utf8')}\n  },\n`,
  ).join(''));
  return `const PERMLEARN_CONFIG = ${JSON.stringify(config)};
(function permlearnBundle(nodeRequire, Module) {
  const parts = {
${parts}  };
  const loaded = Object.create(null);
  function load(name) {
    if (name === 'module') return Module;
    if (!Object.prototype.hasOwnProperty.call(parts, name)) return nodeRequire(name);
    if (loaded[name]) return loaded[name].exports;
    const module = { exports: {} };
    loaded[name] = module;
    parts[name](module, module.exports, load);
    return module.exports;
  }
  load('./recorder.cjs');
})(require, module.constructor);
`;
}

/** The session folder, or a one-line error naming the temporary folder when it cannot be made. */
function makeSessionDir(): string {
  const tmp = os.tmpdir();
  try {
    return mkdtempSync(path.join(tmp, SESSION_PREFIX));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'ENOTDIR'
          ? 'is not a folder'
          : code === 'EACCES' || code === 'EROFS' || code === 'EPERM'
            ? 'is not writable'
            : `cannot be used (${code ?? (err as Error).message})`;
    throw new PermlearnError('environment', `the temporary folder ${tmp} ${why}; permlearn keeps its session files there: set TMPDIR to a writable folder`);
  }
}

export function createSession(): Session {
  removeStaleSessions();
  const dir = makeSessionDir();
  writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid }));
  const release = guardFolder(dir);
  const eventsDir = path.join(dir, 'events');
  mkdirSync(eventsDir);
  const config = { fd: RECORDER_FD, keyFd: KEY_FD, ownerPid: process.pid, eventsDir, sessionDir: dir };
  const esmRegisterPath = path.join(dir, 'esm-register.mjs');
  const recorderPath = path.join(dir, 'recorder.cjs');
  writeFileSync(recorderPath, recorderText(config));
  const observerPath = path.join(dir, 'observer.cjs');
  writeFileSync(observerPath, recorderText({ ...config, observe: true, esmRegister: esmRegisterPath }));
  const dropperPath = path.join(dir, 'dropper.cjs');
  const dropFile = path.join(dir, 'drops.json');
  writeFileSync(dropperPath, recorderText({ ...config, dropFile }));
  const hooksPath = path.join(dir, 'esm-hooks.mjs');
  writeFileSync(hooksPath, readFileSync(ESM_HOOKS_SOURCE, 'utf8'));
  // The recorder (an earlier --require) leaves the key where this file, the next preload, takes it from.
  writeFileSync(
    esmRegisterPath,
    `import { register } from 'node:module';\nconst key = globalThis.__permlearnEsmKey;\ndelete globalThis.__permlearnEsmKey;\nregister(${JSON.stringify(pathToFileURL(hooksPath).href)}, { data: { fd: ${RECORDER_FD}, key } });\n`,
  );
  return {
    dir,
    recorderPath,
    observerPath,
    dropperPath,
    dropFile,
    esmRegisterPath,
    esmReadPaths: [esmRegisterPath, hooksPath],
    eventsDir,
    keys: createKeys(),
    dispose: () => {
      rmSync(dir, { recursive: true, force: true });
      release();
    },
  };
}

const SESSION_PREFIX = 'permlearn-';
/** Marks a folder as a session of the permlearn process it names. */
const OWNER_FILE = 'owner.json';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Session folders whose permlearn is gone (it was killed with SIGKILL before the watchdog could act,
 * or the machine went down): removed by the next run. Only folders with an owner file naming a dead
 * process are touched.
 */
export function removeStaleSessions(tmp = os.tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(SESSION_PREFIX) || name.length !== SESSION_PREFIX.length + 6) continue;
    const dir = path.join(tmp, name);
    try {
      const { pid } = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as { pid?: unknown };
      if (typeof pid !== 'number' || pid === process.pid || alive(pid)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // not a session folder, or not ours to read
    }
  }
  return removed;
}

/** The real file-system probe the pure core asks. */
export const realFs: FsProbe = {
  kind(absPath) {
    try {
      return statSync(absPath).isDirectory() ? 'dir' : 'file';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'file';
    }
  },
  homedir: os.homedir(),
  secretsUnder,
};
