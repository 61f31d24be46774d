// What each Node release line supports, as measured (see shared/node-permission-model.md §1).
import type { Scope } from './types.js';

export interface NodeVersion {
  major: number;
  minor: number;
  patch: number;
  /** `v26.10.0` */
  raw: string;
}

export interface Capabilities {
  version: NodeVersion;
  /** `--experimental-permission` (20, early 22/23) or `--permission`. */
  enableFlag: string;
  /** Scopes this version can grant. */
  grantable: ReadonlySet<Scope>;
  /** Scopes that exist but are not restricted at all (the network before 26). */
  unrestricted: ReadonlySet<Scope>;
  /** `--permission-audit` works. */
  audit: boolean;
  /** The entry file and `--require` preloads are granted without a flag (22+). */
  autoGrantsEntry: boolean;
  /** A repeated grant aborts Node at start-up (20). */
  abortsOnDuplicateGrant: boolean;
  /** Node copies the permission flags, unquoted, into spawned children's NODE_OPTIONS (22+). */
  propagatesToSpawned: boolean;
  /** The node:permission-model:* diagnostics channels publish failed checks (24+). */
  publishesDenials: boolean;
  /** `process.permission.drop()` exists (24+). */
  hasDrop: boolean;
  /** `module.registerHooks()` (in-thread module hooks, 22.15+): the recorder can see ES module loads
   *  itself; before that a hooks thread is needed, which the permission model counts as a Worker. */
  inThreadModuleHooks: boolean;
  /** The CommonJS resolver checks the read of the file it resolves (its realpath) in enforce mode, so a
   *  required `.node` file needs a read grant besides --allow-addons. Measured: yes on 22.23.5, 24.22.1,
   *  24.22.3 and 26.12.1; no on 20.20.2, 22.23.3, 24.21.0 and 26.10.0. 24's audit mode does not report
   *  that check (26.12.1's does). The releases in between (22.23.4, 24.22.0, 26.11.x) are not on npm and
   *  are taken to be the later kind; the odd lines are not measured and taken not to check. */
  resolverChecksAddonRead: boolean;
}

const VERSION_RE = /^v?(\d+)\.(\d+)\.(\d+)/;

export function parseNodeVersion(text: string): NodeVersion | undefined {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { major, minor, patch, raw: `v${major}.${minor}.${patch}` };
}

/** Oldest major with a permission model. */
export const MIN_MAJOR = 20;

export function capabilitiesOf(version: NodeVersion): Capabilities {
  const { major, minor, patch } = version;
  // `--permission` arrived in 22.13 and 23.5; before that only the experimental spelling exists.
  const experimental = major < 22 || (major === 22 && minor < 13) || (major === 23 && minor < 5);
  const grantable = new Set<Scope>(['fs.read', 'fs.write', 'child', 'worker', 'addon', 'wasi']);
  // Measured on 24 and 26; odd lines in between are treated like the older even line.
  if (major >= 24) {
    grantable.add('inspector');
    grantable.add('openssl.store');
  }
  if (major >= 26) {
    grantable.add('net');
    grantable.add('ffi');
  }
  const unrestricted = new Set<Scope>();
  if (major < 26) unrestricted.add('net');
  return {
    version,
    enableFlag: experimental ? '--experimental-permission' : '--permission',
    grantable,
    unrestricted,
    audit: major >= 24,
    autoGrantsEntry: major >= 22,
    abortsOnDuplicateGrant: major < 22,
    propagatesToSpawned: major >= 22,
    publishesDenials: major >= 24,
    hasDrop: major >= 24,
    inThreadModuleHooks: major > 22 || (major === 22 && minor >= 15),
    resolverChecksAddonRead:
      major > 26 || (major === 26 && minor >= 11) || (major === 24 && minor >= 22) || (major === 22 && (minor > 23 || (minor === 23 && patch >= 4))),
  };
}

/** The flag that grants a scope (booleans) or the flag name a path is appended to (fs). */
export const FLAG_OF_SCOPE: Record<Scope, string> = {
  'fs.read': '--allow-fs-read',
  'fs.write': '--allow-fs-write',
  child: '--allow-child-process',
  worker: '--allow-worker',
  addon: '--allow-addons',
  wasi: '--allow-wasi',
  inspector: '--allow-inspector',
  'openssl.store': '--allow-openssl-store',
  net: '--allow-net',
  ffi: '--allow-ffi',
};
