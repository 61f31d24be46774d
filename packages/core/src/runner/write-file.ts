// Writing a profile without ever clobbering or half-writing the user's file.
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PermlearnError } from '../errors.js';

/**
 * Write `content` to `file` atomically: a temporary file in the same folder, then a link (which
 * fails if the file exists) or, with `force`, a rename over it.
 */
export function writeFileAtomic(file: string, content: string, { force = false } = {}): void {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw new PermlearnError('usage', `cannot write ${target}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (force) renameSync(tmp, target);
    else {
      linkSync(tmp, target);
      unlinkSync(tmp);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new PermlearnError('usage', `${target} already exists; pass --force to overwrite it`);
    }
    throw new PermlearnError('usage', `cannot write ${target}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
