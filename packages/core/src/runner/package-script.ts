// `npm start`, `pnpm run dev`, `npx tool`: the command a package manager would run, without the package
// manager (so that it stays out of the profile). Reads the project's package.json and bin folders.
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { PermlearnError } from '../errors.js';
import { shellQuote } from '../model/profile.js';

const PACKAGE_MANAGERS = new Set(['npm', 'pnpm', 'yarn']);

/** `npm start`, `pnpm run dev -- --x`, `yarn test`: the script's own command line, run by `sh -c`. */
export function packageScript(command: string[], appRoot: string): string[] | undefined {
  const [pm, verb, ...rest] = command;
  // `npx tool …` for a tool installed in the project: run its bin directly, without npm.
  if (pm && path.basename(pm) === 'npx' && verb && !verb.startsWith('-')) {
    for (const bin of binFolders(appRoot)) {
      const tool = path.join(bin, verb);
      if (existsSync(tool)) return [tool, ...rest];
    }
    return undefined;
  }
  if (!pm || !PACKAGE_MANAGERS.has(path.basename(pm)) || !verb) return undefined;
  let name: string | undefined;
  let extra: string[] = [];
  if (verb === 'start' || verb === 'test') {
    name = verb;
    extra = rest;
  } else if (verb === 'run' || verb === 'run-script') {
    [name, ...extra] = rest;
  } else if (path.basename(pm) !== 'npm' && !verb.startsWith('-')) {
    name = verb; // `pnpm dev`, `yarn dev`
    extra = rest;
  }
  if (!name) return undefined;
  if (extra[0] === '--') extra = extra.slice(1);
  let scripts: Record<string, unknown> = {};
  try {
    scripts = (JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> }).scripts ?? {};
  } catch {
    return undefined;
  }
  let script = scripts[name];
  // `npm start` without a start script runs `node server.js`, as npm does.
  if (script === undefined && name === 'start' && existsSync(path.join(appRoot, 'server.js'))) script = 'node server.js';
  if (typeof script !== 'string') throw new PermlearnError('usage', `package.json in ${appRoot} has no "${name}" script`);
  // npm also runs pre<name> and post<name> around it (pnpm 10 and yarn 2+ do not by default).
  const around = (when: 'pre' | 'post') =>
    path.basename(pm) === 'npm' && typeof scripts[`${when}${name}`] === 'string' ? [scripts[`${when}${name}`] as string] : [];
  const line = [...around('pre'), [script, ...extra.map(shellQuote)].join(' '), ...around('post')].join(' && ');
  // What the package manager would do first: its bin folders on PATH (nearest first).
  return ['/bin/sh', '-c', `PATH=${shellQuote(binFolders(appRoot).join(path.delimiter))}:"$PATH"; ${line}`];
}

/** node_modules/.bin of a folder and of every folder above it, nearest first. */
function binFolders(from: string): string[] {
  const bins: string[] = [];
  for (let dir = from; ; dir = path.dirname(dir)) {
    bins.push(path.join(dir, 'node_modules', '.bin'));
    if (path.dirname(dir) === dir) break;
  }
  return bins;
}
