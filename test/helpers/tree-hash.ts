// A tree's exact state, for "left as it was" assertions: every entry below a folder (symlinks not
// followed) with its type, mode, and its content's hash or its link target.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** One line per entry, sorted: `relative/path type mode sha256|target`. */
export function treeState(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    const st = lstatSync(abs);
    const rel = path.relative(dir, abs) || '.';
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.push(`${rel} link ${mode} ${readlinkSync(abs)}`);
    else if (st.isFile()) out.push(`${rel} file ${mode} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
    else if (st.isDirectory()) {
      out.push(`${rel} dir ${mode}`);
      for (const name of readdirSync(abs)) walk(path.join(abs, name));
    } else out.push(`${rel} other ${mode}`);
  };
  walk(dir);
  return out.sort();
}
