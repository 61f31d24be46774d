// How the CLI shows a path to a person and finds the project a profile travels with. Path rules for
// grants and the project root are core's (model/paths/, runner/project.ts); this file only shortens.
import path from 'node:path';

/** A path in a message: relative to the current folder when it is inside it (shorter), else as given. */
export function shortPath(p: string, from = process.cwd()): string {
  const rel = path.relative(from, p);
  return rel && !rel.startsWith('..') && rel.length < p.length ? rel : p;
}

/** The project a profile travels with (the git checkout around the cwd, else the cwd): core's rule. */
export { findProjectRoot } from '@permlearn/core';
