// Drop plans: which grants only start-up needs, so the app can give them up with
// process.permission.drop() once it is ready (Node 24+). Pure: grants and timed evidence in, a plan out.
import { permissionLabel, type CapabilityScope, type Denial, type Scope } from '../types.js';
import { findCovering, isFsScope, renderGrantFlag, type Grant } from '../grants.js';
import { isSpurious, scopeOfPermission } from '../denials.js';
import { relativePath, resourcePath } from '../paths/index.js';

/** One `process.permission.drop(scope[, reference])` call. */
export interface DropCall {
  scope: Scope;
  reference?: string;
}

export interface PlannedDrop extends DropCall {
  /** The grant it gives up, as a flag. */
  flag: string;
  /** What the grant was for: its resources, and who used them. */
  covers: { resource: string; by?: string; at?: string }[];
}

export type KeepReason =
  /** used again after the app was ready */
  | 'used-while-serving'
  /** dropping it broke the app in the verification run */
  | 'broke-when-dropped'
  /** Node can drop a `*` grant only whole (drop(scope) with no reference), which would take everything */
  | 'prefix-cannot-drop';

export interface KeptGrant {
  flag: string;
  reason: KeepReason;
  /** For 'used-while-serving': what was used after readiness. */
  resources?: string[];
  /** For 'used-while-serving': how long after readiness it was last used (ms), as the timing run saw it. */
  lastAfterMs?: number;
}

export interface DropPlan {
  /** Drops that passed the verification run (or all planned drops when not verified). */
  drops: PlannedDrop[];
  keep: KeptGrant[];
  /** The verification run applied the drops at readiness, ran the exercise commands and saw no denial. */
  verified: boolean;
  /** Exercise commands ran after readiness; without them "while serving" means only the moments after start-up. */
  exercised: boolean;
  /** Why there is no plan or why it is weaker than it looks. */
  notes: string[];
}

/** The grant a timed check falls under, if any. */
function grantOfCheck(d: Denial, grants: readonly Grant[]): Grant | undefined {
  const scope = scopeOfPermission(d.permission);
  if (!scope) return undefined;
  if (isFsScope(scope)) return d.resource === '' ? undefined : findCovering(grants, scope, resourcePath(d));
  return findCovering(grants, scope);
}

/** The drop() call that removes a grant, or undefined when Node cannot remove it on its own. */
export function dropCallOf(g: Grant): DropCall | undefined {
  if (g.path === undefined) return { scope: g.scope };
  // A `prefix*` grant is stored as a wildcard, which only drop(scope) with no reference removes.
  if (g.kind === 'prefix') return undefined;
  // `D/*` and `D` drop the same; the plain path reads better.
  return { scope: g.scope, reference: g.path };
}

/**
 * Split grants into start-up only and still used, from a timing run: every check the app made (audit
 * mode, so each one is reported with when it was first and last made) and the moment it was ready.
 */
export function planDrops(grants: readonly Grant[], checks: readonly Denial[], readyTime: number): { drops: PlannedDrop[]; keep: KeptGrant[] } {
  const usedLater = new Map<Grant, { resources: Set<string>; last: number }>();
  for (const d of checks) {
    if (d.source !== 'channel' || isSpurious(d)) continue;
    const last = d.lastTime ?? d.time;
    // readyTime is when permlearn read the line that said so, after the app printed it: a check in that
    // same millisecond is the start-up's own (26's listen() check, a moment before "listening"), which
    // the drop plan's verification run would catch if it were not.
    if (last === undefined || last <= readyTime) continue;
    const g = grantOfCheck(d, grants);
    if (!g) continue;
    const used = usedLater.get(g) ?? { resources: new Set<string>(), last };
    used.resources.add(d.resource || permissionLabel(d));
    used.last = Math.max(used.last, last);
    usedLater.set(g, used);
  }
  const drops: PlannedDrop[] = [];
  const keep: KeptGrant[] = [];
  for (const g of grants) {
    const flag = renderGrantFlag(g);
    const later = usedLater.get(g);
    if (later) {
      keep.push({ flag, reason: 'used-while-serving', resources: [...later.resources].sort(), lastAfterMs: later.last - readyTime });
      continue;
    }
    const call = dropCallOf(g);
    if (!call) {
      keep.push({ flag, reason: 'prefix-cannot-drop' });
      continue;
    }
    const covers = new Map<string, PlannedDrop['covers'][number]>();
    for (const d of g.denials) {
      const resource = d.resource || permissionLabel(d);
      if (!covers.has(resource)) covers.set(resource, { resource, ...(d.by ? { by: d.by } : {}), ...(d.at ? { at: d.at } : {}) });
    }
    drops.push({ ...call, flag, covers: [...covers.values()] });
  }
  return { drops, keep };
}

/** The planned drops that a denial seen after they were applied implicates. */
export function dropsBrokenBy(drops: readonly PlannedDrop[], denials: readonly Denial[]): PlannedDrop[] {
  const asGrants = new Map<Grant, PlannedDrop>();
  for (const p of drops)
    asGrants.set(
      p.reference !== undefined && isFsScope(p.scope)
        ? { scope: p.scope, path: p.reference, kind: 'dir', denials: [], notes: [] }
        : { scope: p.scope as CapabilityScope, denials: [], notes: [] },
      p,
    );
  const broken = new Set<PlannedDrop>();
  for (const d of denials) {
    const scope = scopeOfPermission(d.permission);
    if (!scope) continue;
    for (const [g, p] of asGrants) {
      if (g.scope !== scope) continue;
      if (g.path === undefined) broken.add(p);
      else if (d.resource !== '' && findCovering([g], scope, resourcePath(d))) broken.add(p);
    }
  }
  return drops.filter((p) => broken.has(p));
}

/** The snippet to paste after the app's start-up: one drop() per line, each with what it covered. */
export function renderDropSnippet(plan: DropPlan, opts: { cwd: string; relative: boolean; entry: string; node: string }): string {
  const lines: string[] = [];
  lines.push(`// permlearn drop plan for ${opts.entry} (learned under Node ${opts.node}).`);
  lines.push('// Call once start-up is done (after the server listens): these grants are not used after that.');
  if (!plan.verified) lines.push('// NOT VERIFIED: permlearn could not confirm the app keeps working with these drops.');
  if (!plan.exercised) lines.push('// Learned without exercise commands: only what start-up and the first moments after it used is known.');
  if (plan.drops.length === 0) lines.push('// Nothing to drop: every grant is still used while the app serves.');
  const width = Math.max(0, ...plan.drops.map((d) => callText(d, opts).length));
  for (const d of plan.drops) {
    const askers = [...new Set(d.covers.map((c) => c.by).filter(Boolean))];
    const who = askers.length > 3 ? `${askers.slice(0, 3).join(', ')} and ${askers.length - 3} more` : askers.join(', ');
    const what =
      d.reference === undefined
        ? (SCOPE_WORDS[d.scope] ?? d.scope)
        : d.covers.length === 1
          ? shortResource(d.covers[0]!.resource, opts.cwd)
          : `${d.covers.length} files`;
    lines.push(`${callText(d, opts).padEnd(width)} // ${what}${who ? `, used by ${who}` : ''}`);
  }
  for (const k of plan.keep) {
    const why =
      k.reason === 'used-while-serving'
        ? `still used while serving (${k.resources?.length ?? 0} resource${k.resources?.length === 1 ? '' : 's'}${k.lastAfterMs === undefined ? '' : `, last ${k.lastAfterMs} ms after start-up`})`
        : k.reason === 'broke-when-dropped'
          ? 'dropping it broke the app'
          : 'a prefix wildcard: drop() can only remove it together with every other grant of its scope';
    lines.push(`// kept: ${keptFlag(k.flag, opts)}: ${why}`);
  }
  return `${lines.join('\n')}\n`;
}

const SCOPE_WORDS: Partial<Record<Scope, string>> = {
  child: 'child processes',
  worker: 'Workers',
  net: 'the network (listening is checked once, when the server starts)',
  addon: 'native addons',
  wasi: 'WASI',
  inspector: 'the inspector',
  'openssl.store': 'the OpenSSL store',
  ffi: 'FFI',
};

/** A kept grant's flag, its path relative to the cwd when the output is. */
function keptFlag(flag: string, opts: { cwd: string; relative: boolean }): string {
  const eq = flag.indexOf('=');
  if (!opts.relative || eq < 0) return flag;
  const value = flag.slice(eq + 1);
  const star = value.endsWith('/*') ? '/*' : value.endsWith('*') ? '*' : '';
  return `${flag.slice(0, eq + 1)}${relativeRef(value.slice(0, value.length - star.length), opts.cwd)}${star}`;
}

/** A drop() reference relative to the cwd (`./x`), when it is below it. */
function relativeRef(abs: string, cwd: string): string {
  return relativePath(abs, { cwd, root: cwd }, { dotSlash: true }) ?? abs;
}

function callText(d: DropCall, opts: { cwd: string; relative: boolean }): string {
  if (d.reference === undefined) return `process.permission.drop(${JSON.stringify(d.scope)});`;
  const ref = opts.relative ? relativeRef(d.reference, opts.cwd) : d.reference;
  return `process.permission.drop(${JSON.stringify(d.scope)}, ${JSON.stringify(ref)});`;
}

/** What a drop covered, for the comment: relative to the cwd when it is below it. */
function shortResource(resource: string, cwd: string): string {
  return relativePath(resource, { cwd, root: cwd }) ?? resource;
}
