// Finding, on disk, the project an app belongs to. Two questions with two answers, named apart:
// - gitRoot: the checkout a committed profile travels with (its paths move with it, see model/paths);
// - packageRoot: the folder of the nearest package.json, where npm runs a script and whose code is
//   "the app's own" when permlearn says who asked for a grant.
// The path rules themselves are the model's (model/paths/); this file only looks upward from a folder.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FindPackage } from '../model/attribute.js';
import { packageFinder } from './packages.js';

/** The nearest folder at or above `dir` that holds `.git`, never `/` or the home folder (or above it). */
export function gitRoot(dir: string, home = os.homedir()): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (d === '/' || d === home) return undefined;
    if (existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** The project a profile travels with: the git checkout around `cwd`, else `cwd` itself. */
export function findProjectRoot(cwd: string, home = os.homedir()): string {
  return gitRoot(cwd, home) ?? path.resolve(cwd);
}

/** The folder of the nearest package.json (one that parses) at or above `dir`, if any. */
export function packageRoot(dir: string, findPackage: FindPackage = packageFinder()): string | undefined {
  return findPackage(path.resolve(dir))?.dir;
}

/**
 * The project an entry file belongs to: the package root above it, not counting installed packages
 * (a tool run as node_modules/prettier/bin/prettier.cjs belongs to the project that installed it);
 * without a package.json, the folder that holds that node_modules, else `cwd`.
 */
export function entryProjectRoot(entry: string, cwd: string, findPackage: FindPackage = packageFinder()): string {
  const nm = entry.indexOf(`${path.sep}node_modules${path.sep}`);
  const start = nm >= 0 ? entry.slice(0, nm) : path.dirname(entry);
  return packageRoot(start, findPackage) ?? (nm >= 0 ? start : cwd);
}
