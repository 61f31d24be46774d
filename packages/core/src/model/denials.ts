// What a denial needs: the grant that lifts it, or the reason no flag can.
import { permissionLabel, type Denial, type FsScope, type KnownPermission, type PathKind, type PermissionName, type Scope } from './types.js';
import type { Capabilities } from './node-versions.js';
import { MKDTEMP_SUFFIX, mkdtempPrefix, resourcePath } from './paths/index.js';

export type Need =
  | { type: 'fs'; scope: FsScope; path: string; prefix?: boolean }
  | { type: 'scope'; scope: Exclude<Scope, FsScope> }
  | { type: 'ungrantable'; code: UngrantableCode; reason: string };

export type UngrantableCode = 'fd-sync-api' | 'symlink-needs-full-fs' | 'process-binding' | 'scope-not-in-version' | 'unknown-permission';

/** The scope that lifts a denial of each permission (file-system ones aside). */
export const SCOPE_OF_PERMISSION: Partial<Record<PermissionName, Exclude<Scope, FsScope>>> = {
  ChildProcess: 'child',
  WorkerThreads: 'worker',
  WASI: 'wasi',
  Inspector: 'inspector',
  OpenSSLStore: 'openssl.store',
  Net: 'net',
  FFI: 'ffi',
  Addon: 'addon',
};

/** The permission Node names in a denial that a grant of `scope` would lift. */
export function permissionOfScope(scope: Scope): KnownPermission {
  if (scope === 'fs.read') return 'FileSystemRead';
  if (scope === 'fs.write') return 'FileSystemWrite';
  return (Object.keys(SCOPE_OF_PERMISSION) as KnownPermission[]).find((p) => SCOPE_OF_PERMISSION[p] === scope)!;
}

/** The file-system scope a denial of `permission` asks for; undefined for every other permission. */
export function fsScopeOf(permission: PermissionName): FsScope | undefined {
  if (permission === 'FileSystemRead') return 'fs.read';
  if (permission === 'FileSystemWrite') return 'fs.write';
  return undefined;
}

const FD_SYNC_RE = /^(\w+) API is disabled when Permission Model is enabled/;

/** Map one denial to what would lift it on the given Node version. */
export function needOf(d: Denial, caps: Capabilities): Need {
  if (d.code === 'ERR_DLOPEN_DISABLED') return checkVersion({ type: 'scope', scope: 'addon' }, caps);
  const message = d.message ?? '';
  const scope = fsScopeOf(d.permission);
  if (scope) {
    if (d.resource === '') return { type: 'ungrantable', code: 'unknown-permission', reason: `${d.permission} denial with no path` };
    const abs = resourcePath(d);
    const prefix = scope === 'fs.write' ? mkdtempPrefix(d.resource) : undefined;
    if (prefix !== undefined) {
      // resolve() drops a trailing slash, so cut the template off the resolved path instead.
      return { type: 'fs', scope, path: abs.slice(0, -MKDTEMP_SUFFIX.length), prefix: true };
    }
    return { type: 'fs', scope, path: abs };
  }
  if (d.permission === 'FileSystem' || message.includes('fs.symlink API requires full')) {
    return {
      type: 'ungrantable',
      code: 'symlink-needs-full-fs',
      reason: 'fs.symlink needs --allow-fs-read=* and --allow-fs-write=*, which permlearn never grants on its own',
    };
  }
  const fdSync = FD_SYNC_RE.exec(message);
  if (fdSync) {
    return {
      type: 'ungrantable',
      code: 'fd-sync-api',
      reason: `${fdSync[1]}() is always disabled under the permission model; no flag enables it`,
    };
  }
  if (message.startsWith('process.binding')) {
    return { type: 'ungrantable', code: 'process-binding', reason: 'process.binding() is always denied under the permission model' };
  }
  const capability = SCOPE_OF_PERMISSION[d.permission];
  if (capability) return checkVersion({ type: 'scope', scope: capability }, caps);
  return {
    type: 'ungrantable',
    code: 'unknown-permission',
    reason: `unknown permission '${permissionLabel(d)}'${message ? `: ${message}` : ''}`,
  };
}

function checkVersion(need: { type: 'scope'; scope: Exclude<Scope, FsScope> }, caps: Capabilities): Need {
  if (caps.grantable.has(need.scope)) return need;
  return {
    type: 'ungrantable',
    code: 'scope-not-in-version',
    reason: `Node ${caps.version.raw} has no flag to grant '${need.scope}'`,
  };
}

/** The scope a permission name belongs to, file-system ones included. */
export function scopeOfPermission(permission: PermissionName): Scope | undefined {
  return fsScopeOf(permission) ?? SCOPE_OF_PERMISSION[permission];
}

/** Denials Node publishes that deny nothing the app needs: a Worker's Inspector event with no resource. */
export function isSpurious(d: Denial): boolean {
  return d.permission === 'Inspector' && d.resource === '' && d.source === 'channel';
}

/** A stable identity for de-duplicating denials. */
export function denialKey(d: Denial): string {
  const where = fsScopeOf(d.permission) && d.resource ? resourcePath(d) : d.resource;
  // A has() asking and an access of the same path are two pieces of evidence: only the access shows a need.
  return `${d.code}\u0000${permissionLabel(d)}\u0000${where}\u0000${d.message && !d.permission ? d.message : ''}${d.asked === 'has' ? '\u0000has' : ''}`;
}

/** One denial per identity, the first one seen, with the hits of all of them added up. One pass,
 *  and a new object only for a denial seen more than once. */
export function dedupeDenials(denials: readonly Denial[]): Denial[] {
  const seen = new Map<string, { first: Denial; hits: number; repeated: boolean }>();
  for (const d of denials) {
    const key = denialKey(d);
    const entry = seen.get(key);
    if (entry) {
      entry.hits += d.hits ?? 1;
      entry.repeated = true;
    } else {
      seen.set(key, { first: d, hits: d.hits ?? 1, repeated: false });
    }
  }
  const out: Denial[] = [];
  for (const { first, hits, repeated } of seen.values()) out.push(repeated ? { ...first, hits } : first);
  return out;
}

export type { PathKind };
