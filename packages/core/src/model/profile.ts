// The learned profile as data, and its renderings (one shell line, JSON).
import type { Capabilities } from './node-versions.js';
import type { Denial, PathKind, Scope } from './types.js';
import { normaliseGrants, renderGrantFlag, renderFlags, type Grant, type GrantNote } from './grants.js';
import type { LearnResult, LearnStatus, Ungrantable } from './learn.js';

export const PROFILE_SCHEMA = 1;

export interface ProfileGrant {
  scope: Scope;
  /** The flag exactly as passed to node. */
  flag: string;
  path?: string;
  kind?: PathKind;
  /** What the grant answers: each denial that led to it. */
  denials: Denial[];
  notes: GrantNote[];
  /** Why this grant deserves a second look, if it does. */
  risk?: string;
}

export interface Profile {
  permlearn: number;
  /** Node version the profile was learned and verified under. */
  node: string;
  entry: string;
  args: string[];
  cwd: string;
  /** argv to pass verbatim before the entry file. */
  flags: string[];
  grants: ProfileGrant[];
  runs: number;
  /** `audit` (one --permission-audit run first), `observe` (one run with the app root readable, keeping
   *  the modules it loaded) or `rerun` (enforce runs only); enforce runs confirm in every case. */
  strategy: 'audit' | 'observe' | 'rerun';
  verified: boolean;
  status: LearnStatus;
  reason?: string;
  /** Denials the app survived without a grant (caught or probed), not granted. */
  observed: Denial[];
  ungrantable: Ungrantable[];
  warnings: string[];
}

const RISKS: Partial<Record<Scope, string>> = {
  child: 'child processes: non-Node children run with no restrictions at all',
  addon: 'native addons: native code is not bound by the permission model',
  ffi: 'FFI: native code is not bound by the permission model',
  worker: 'workers run with the same grants as the app',
  inspector: 'the inspector can run any code in the process',
};

/** Does a write grant reach into the app's own source tree (anything under cwd but not a tmp/log-like place)? */
function riskOf(g: Grant, cwd: string): string | undefined {
  const known = RISKS[g.scope];
  if (known) return known;
  if (g.scope === 'fs.write' && g.path && (g.kind === 'dir' || g.kind === 'created-dir') && (g.path === cwd || cwd.startsWith(`${g.path}/`))) {
    return 'write access to the directory that holds the app itself';
  }
  if (g.kind === 'prefix') return `a prefix wildcard: every path starting with ${g.path}`;
  return undefined;
}

export interface ProfileMeta {
  caps: Capabilities;
  entry: string;
  args: string[];
  cwd: string;
  strategy?: 'audit' | 'observe' | 'rerun';
}

export function buildProfile(result: LearnResult, meta: ProfileMeta): Profile {
  const grants = normaliseGrants(result.grants);
  const warnings: string[] = [];
  for (const g of grants) {
    if (g.path?.includes(' ') && meta.caps.propagatesToSpawned) {
      warnings.push(`${g.path} contains a space: Node ${meta.caps.version.major}+ copies grants unquoted into child processes' NODE_OPTIONS, where it breaks`);
    }
  }
  return {
    permlearn: PROFILE_SCHEMA,
    node: meta.caps.version.raw,
    entry: meta.entry,
    args: meta.args,
    cwd: meta.cwd,
    flags: renderFlags(grants, meta.caps),
    grants: grants.map((g) => {
      const out: ProfileGrant = { scope: g.scope, flag: renderGrantFlag(g), denials: g.denials, notes: g.notes };
      if (g.path !== undefined) out.path = g.path;
      if (g.kind !== undefined) out.kind = g.kind;
      const risk = riskOf(g, meta.cwd);
      if (risk) out.risk = risk;
      return out;
    }),
    runs: result.runs,
    strategy: meta.strategy ?? 'rerun',
    verified: result.status === 'verified',
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    observed: result.observed,
    ungrantable: result.ungrantable,
    warnings,
  };
}

const SAFE_ARG = /^[A-Za-z0-9_\-./=:,@%+]+$/;

/** Quote one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE_ARG.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `--format flags`: the flags as one shell-quoted line. */
export function renderFlagsLine(profile: Pick<Profile, 'flags'>): string {
  return profile.flags.map(shellQuote).join(' ');
}

/** `--format json`. */
export function renderJson(profile: Profile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
}
