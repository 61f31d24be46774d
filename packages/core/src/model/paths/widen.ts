// Path arithmetic that widening needs: mkdtemp templates, and where a path inside node_modules
// belongs. The policy (how far a grant may reach) is in generalise.ts and breadth.ts. Pure.

/** The suffix Node's mkdtemp replaces with random characters. */
export const MKDTEMP_SUFFIX = 'XXXXXX';

/** The prefix an `mkdtemp` template stands for (`/tmp/app-XXXXXX` → `/tmp/app-`), if it is one. */
export function mkdtempPrefix(resource: string): string | undefined {
  return resource.endsWith(MKDTEMP_SUFFIX) ? resource.slice(0, -MKDTEMP_SUFFIX.length) : undefined;
}

const NM = '/node_modules/';

/** The directory of the package a path inside `node_modules` belongs to (innermost), if any. */
export function packageDirOf(abs: string): string | undefined {
  const at = abs.lastIndexOf(NM);
  if (at < 0) return undefined;
  const rest = abs.slice(at + NM.length).split('/');
  const take = rest[0]?.startsWith('@') ? 2 : 1;
  if (rest.length <= take || rest.slice(0, take).some((s) => s === '')) return undefined;
  return `${abs.slice(0, at + NM.length)}${rest.slice(0, take).join('/')}`;
}

/** The outermost `node_modules` folder above a path, if any. */
export function outerNodeModulesOf(abs: string): string | undefined {
  const at = abs.indexOf(NM);
  return at < 0 ? undefined : abs.slice(0, at + NM.length - 1);
}

/** The first folder below `dir` on the way to `abs` (`/tmp`, `/tmp/a/b/f` → `/tmp/a`); `abs` must lie strictly below `dir`. */
export function firstFolderBelow(abs: string, dir: string): string {
  const base = dir.replace(/\/+$/, '');
  return `${base}/${abs.slice(base.length + 1).split('/')[0]}`;
}
