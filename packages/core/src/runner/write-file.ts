// Writing a user's file without ever clobbering or half-writing it. Only regular files are written or
// replaced; a file is replaced only when the caller says so (--force, or check --write on the profile
// it read), and then keeps its mode and owner; without that, "does it exist" is decided by the same
// system call that creates it (link(2) of a finished temporary file), so a file created meanwhile is kept.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PermlearnError } from '../errors.js';

export interface WriteOptions {
  /** Replace an existing regular file (never anything else). */
  force?: boolean;
  /** Replace the file only while it still holds exactly this text (what the caller read from it): check --write. */
  replacing?: string;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
const fail = (message: string): never => {
  throw new PermlearnError('usage', message);
};

/** What a non-regular file is, in a few words. */
function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The file at `target` as it is now (not following a symbolic link), or undefined when there is none. */
function existing(target: string): Stats | undefined {
  try {
    return lstatSync(target);
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    if (code(err) === 'ENOTDIR') return fail(`cannot write ${target}: ${path.dirname(target)} is not a folder`);
    return fail(`cannot write ${target}: ${code(err)}`);
  }
}

/** Refuse what may never be written: anything but a regular file, and an existing file without leave to replace it. */
function refuse(target: string, st: Stats | undefined, options: WriteOptions): void {
  if (!st) return;
  if (!st.isFile()) fail(`${target} is ${kindOf(st)}: permlearn writes only regular files${options.force ? ', even with --force' : ''}`);
  if (!options.force && options.replacing === undefined) fail(`${target} already exists; pass --force to overwrite it`);
}

function tempNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Open a fresh temporary file beside `target`, or say why its folder takes none. */
function openTemp(target: string, mode: number): { fd: number; tmp: string } {
  const dir = path.dirname(target);
  const tmp = tempNameFor(target);
  try {
    return { fd: openSync(tmp, 'wx', mode), tmp };
  } catch (err) {
    if (code(err) === 'ENOENT') return fail(`cannot write ${target}: the folder ${dir} does not exist`);
    if (code(err) === 'ENOTDIR') return fail(`cannot write ${target}: ${dir} is not a folder`);
    if (code(err) === 'EACCES' || code(err) === 'EPERM' || code(err) === 'EROFS')
      return fail(`cannot write ${target}: the folder ${dir} is not writable (${code(err)})`);
    return fail(`cannot write ${target}: ${code(err)}`);
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * Check, before any work is done, that `file` could be written: its folder exists and takes a new
 * file, and it is not a non-regular file, nor an existing file without `force`. Throws a usage error.
 */
export function checkOutputPath(file: string, options: WriteOptions = {}): void {
  const target = path.resolve(file);
  refuse(target, existing(target), options);
  try {
    if (!statSync(path.dirname(target)).isDirectory()) fail(`cannot write ${target}: ${path.dirname(target)} is not a folder`);
  } catch (err) {
    if (err instanceof PermlearnError) throw err;
    fail(code(err) === 'ENOENT' ? `cannot write ${target}: the folder ${path.dirname(target)} does not exist` : `cannot write ${target}: ${code(err)}`);
  }
  // Only creating a file says for sure that a folder takes one (root ignores mode bits; a read-only mount does not).
  const { fd, tmp } = openTemp(target, 0o600);
  closeSync(fd);
  removeQuietly(tmp);
}

/**
 * Write `content` to `file` atomically: a temporary file in the same folder, written and synced, then
 * link(2)ed to the name (which fails if anything has appeared there) or, when replacing is allowed,
 * renamed over the existing regular file after taking on its mode and owner.
 */
export function writeFileAtomic(file: string, content: string, options: WriteOptions = {}): void {
  const target = path.resolve(file);
  const before = existing(target);
  refuse(target, before, options);
  if (before && options.replacing !== undefined && !options.force) {
    let now: string;
    try {
      now = readFileSync(target, 'utf8');
    } catch (err) {
      return fail(`cannot read ${target} again before replacing it: ${code(err)}`);
    }
    if (now !== options.replacing) fail(`${target} changed while permlearn was working; not replaced (pass --force to replace it anyway)`);
  }
  const { fd, tmp } = openTemp(target, before ? 0o600 : 0o644);
  try {
    try {
      writeSync(fd, content);
      fsyncSync(fd);
      if (before) {
        fchmodSync(fd, before.mode & 0o7777);
        if (before.uid !== process.getuid?.() || before.gid !== process.getgid?.()) {
          try {
            fchownSync(fd, before.uid, before.gid);
          } catch {
            // Only root may give a file away; the file then belongs to whoever runs permlearn.
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    if (before) {
      // Still the regular file that was checked (a link or folder put there meanwhile is not replaced).
      refuse(target, existing(target), { ...options, force: true });
      renameSync(tmp, target);
    } else {
      try {
        linkSync(tmp, target);
      } catch (err) {
        if (code(err) === 'EEXIST') {
          removeQuietly(tmp);
          // It appeared while permlearn was working: kept, unless replacing was allowed.
          if (options.force) return writeFileAtomic(file, content, options);
          fail(`${target} already exists (it appeared while permlearn was working); pass --force to overwrite it`);
        }
        if (code(err) !== 'EPERM' && code(err) !== 'ENOTSUP' && code(err) !== 'EOPNOTSUPP') throw err;
        // A file system without hard links: create the name exclusively and write into it.
        writeExclusive(target, content);
      }
      removeQuietly(tmp);
    }
  } catch (err) {
    removeQuietly(tmp);
    if (err instanceof PermlearnError) throw err;
    fail(`cannot write ${target}: ${code(err)}`);
  }
}

function writeExclusive(target: string, content: string): void {
  let fd: number;
  try {
    fd = openSync(target, 'wx', 0o644);
  } catch (err) {
    return fail(
      code(err) === 'EEXIST'
        ? `${target} already exists (it appeared while permlearn was working); pass --force to overwrite it`
        : `cannot write ${target}: ${code(err)}`,
    );
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
