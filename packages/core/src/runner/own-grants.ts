// Where permlearn's own grants (recorder, events folder, child canary) may be left out of a run's argv.

/** Does one of the app's `--allow-fs-<scope>` flags already reach `p` (a folder's subtree, `dir/*`, a `prefix*`, the path itself)? */
export function coveredByFlags(flags: readonly string[], scope: 'read' | 'write', p: string): boolean {
  const head = `--allow-fs-${scope}=`;
  return flags.some((f) => {
    if (!f.startsWith(head)) return false;
    const g = f.slice(head.length);
    if (g === p) return true;
    return g.endsWith('*') ? p.startsWith(g.slice(0, -1)) : p.startsWith(`${g}/`);
  });
}
