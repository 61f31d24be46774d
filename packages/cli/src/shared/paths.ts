// How the CLI shows a path to a person and finds the project a profile travels with. Path rules for
// grants are core's (model/); this file only shortens and looks upward from a folder.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A path in a message: relative to the current folder when it is inside it (shorter), else as given. */
export function shortPath(p: string, from = process.cwd()): string {
  const rel = path.relative(from, p);
  return rel && !rel.startsWith('..') && rel.length < p.length ? rel : p;
}

/**
 * The project a profile travels with: the nearest folder at or above `cwd` that holds `.git` (a
 * committed profile moves with its checkout), never `/` or the home folder; else `cwd` itself.
 */
export function findProjectRoot(cwd: string, home = os.homedir()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (dir === '/' || dir === home) break;
    if (existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  return path.resolve(cwd);
}
