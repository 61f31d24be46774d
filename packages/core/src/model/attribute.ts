// Who asked for a grant: the npm package (name@version) or the app file behind each denial's call site.
import path from 'node:path';
import type { Denial } from './types.js';
import { packageDirOf } from './paths/widen.js';

export interface PackageInfo {
  /** Directory holding the package.json. */
  dir: string;
  name?: string;
  version?: string;
}

/** Finds the nearest package.json at or above a directory (injected: it reads the disk). */
export type FindPackage = (dir: string) => PackageInfo | undefined;

export interface Attribution {
  /** `name@version` of the dependency that made the call, or `app` for the app's own code. */
  by: string;
  /** The call site, relative to the package (or app) directory. */
  at: string;
}

const SITE = /^(?:file:\/\/)?(.*?)(?::(\d+):(\d+))?$/;

/** Attribute a denial to a dependency or to the app, from its call site. */
export function attributeDenial(d: Denial, appRoot: string, findPackage: FindPackage): Attribution | undefined {
  if (!d.site) return undefined;
  const m = SITE.exec(d.site);
  if (!m) return undefined;
  const file = decodeURIComponent(m[1]!);
  // Inside node_modules the package is the folder named there, not a package.json nested in it to set
  // a module type (terser's `dist/package.json` names itself "dist"; signal-exit's `dist/cjs` has no name).
  const installed = packageDirOf(file);
  const owner = installed !== undefined ? findPackage(installed) : undefined;
  const pkg = owner !== undefined && owner.dir === installed ? owner : findPackage(path.dirname(file));
  const line = m[2] ? `:${m[2]}` : '';
  if (!pkg || pkg.dir === appRoot) {
    return { by: 'app', at: `${path.relative(appRoot, file) || file}${line}` };
  }
  const name = pkg.name ?? path.basename(pkg.dir);
  return { by: pkg.version ? `${name}@${pkg.version}` : name, at: `${path.relative(pkg.dir, file)}${line}` };
}
