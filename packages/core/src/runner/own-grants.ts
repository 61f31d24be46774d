// Where permlearn's own grants (recorder, events folder, child canary) may be left out of a run's argv.
import { grantCovers } from '../model/paths/index.js';

/** Does one of the app's `--allow-fs-<scope>` flags already reach `p`? Node's rule (paths/match.ts), read back from the flag's value. */
export function coveredByFlags(flags: readonly string[], scope: 'read' | 'write', p: string): boolean {
  const head = `--allow-fs-${scope}=`;
  return flags.some((f) => {
    if (!f.startsWith(head)) return false;
    const g = f.slice(head.length);
    // `D/*` is a folder granted whether or not it exists, `x*` a prefix, anything else a path and its subtree.
    if (g.endsWith('/*')) return grantCovers(g.slice(0, -2), 'created-dir', p);
    if (g.endsWith('*')) return grantCovers(g.slice(0, -1), 'prefix', p);
    return grantCovers(g, 'dir', p);
  });
}
