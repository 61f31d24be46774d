// The grant model: what a profile grants, why, and how a set of grants is kept in the form Node needs
// (no duplicates, nothing covered by another grant, parents before children).
import type { CapabilityScope, Denial, FsScope, PathKind, Scope } from './types.js';
import { coversGrant, grantCovers, renderGrantPath } from './paths/index.js';
import { FLAG_OF_SCOPE, type Capabilities } from './node-versions.js';
import { GrantSet } from './grant-set.js';

export { GrantSet };

/** Something worth telling the user about one grant. */
export interface GrantNote {
  code: 'widened-for-node-quirk' | 'created-at-run-time' | 'mkdtemp-prefix' | 'generalised' | 'accepted-broad' | 'stable-form';
  detail: string;
}

/** A grant's evidence and notes, whatever it grants. */
interface GrantEvidence {
  /** The denials this grant answers (its evidence). */
  denials: Denial[];
  notes: GrantNote[];
}

/** A file-system grant: a path and what kind of path it is (how it is rendered and what it covers). */
export interface FsGrant extends GrantEvidence {
  scope: FsScope;
  /** Absolute path. */
  path: string;
  kind: PathKind;
}

/** A grant of a whole capability (children, Workers, addons …): no path. */
export interface CapabilityGrant extends GrantEvidence {
  scope: CapabilityScope;
  path?: undefined;
  kind?: undefined;
}

export type Grant = FsGrant | CapabilityGrant;

/** What a grant grants, without its evidence: a scope, and for the file system a path and kind. */
export type GrantTarget = Pick<FsGrant, 'scope' | 'path' | 'kind'> | Pick<CapabilityGrant, 'scope' | 'path' | 'kind'>;

/** `g`'s target, nothing else: its scope, and a file-system grant's path and kind. */
export function targetOf(g: GrantTarget): GrantTarget {
  return g.path === undefined ? { scope: g.scope } : { scope: g.scope, path: g.path, kind: g.kind };
}

/** An object with `g`'s target: its scope first, then `fields`, then a file-system grant's path and kind
 *  (the order profiles are written in). */
export function withTarget<F extends object>(g: GrantTarget, fields: F): (Pick<FsGrant, 'scope' | 'path' | 'kind'> & F) | (Pick<CapabilityGrant, 'scope'> & F) {
  return g.path === undefined ? { scope: g.scope, ...fields } : { scope: g.scope, ...fields, path: g.path, kind: g.kind };
}

export const FS_SCOPES: readonly FsScope[] = ['fs.read', 'fs.write'];
export const BOOLEAN_ORDER: readonly Scope[] = ['child', 'worker', 'addon', 'wasi', 'inspector', 'openssl.store', 'net', 'ffi'];

export function isFsScope(scope: Scope): scope is FsScope {
  return scope === 'fs.read' || scope === 'fs.write';
}

/** A stable identity for a grant: scope plus rendered path. */
export function grantKey(g: GrantTarget): string {
  return g.path === undefined ? g.scope : `${g.scope}\u0000${renderGrantPath(g.path, g.kind)}`;
}

/** Does any grant in `grants` allow `target` in `scope`? Returns the covering grant (the first one, in
 *  the order of the list, or of a GrantSet). */
export function findCovering(grants: readonly Grant[] | GrantSet, scope: FsScope, target: string): FsGrant | undefined;
export function findCovering(grants: readonly Grant[] | GrantSet, scope: Scope, target?: string): Grant | undefined;
export function findCovering(grants: readonly Grant[] | GrantSet, scope: Scope, target?: string): Grant | undefined {
  if (grants instanceof GrantSet) return grants.covering(scope, target);
  return grants.find((g) => covers(g, scope, target));
}

export function covers(g: Grant, scope: Scope, target: string | undefined): boolean {
  if (g.scope !== scope) return false;
  if (g.path === undefined || target === undefined) return g.path === undefined && target === undefined;
  return grantCovers(g.path, g.kind, target);
}

export function copyGrant(g: Grant): Grant {
  return { ...g, denials: [...g.denials], notes: [...g.notes] };
}

export function mergeInto(into: Grant, from: Grant): void {
  // One at a time: a spread of a very long evidence list would overflow the call stack.
  for (const d of from.denials) into.denials.push(d);
  for (const note of from.notes) {
    if (!into.notes.some((n) => n.code === note.code && n.detail === note.detail)) into.notes.push(note);
  }
}

/**
 * A grant covered by a wider one gives it its evidence, not its notes: those say why the covered grant
 * reaches as far as it does (`--granularity deps: every dependency in node_modules`), which is not why
 * the wider one does.
 */
export function absorbCovered(into: Grant, from: Grant): void {
  for (const d of from.denials) into.denials.push(d);
}

/*
 * Indexing. A grant that reaches a path `p` (or covers a grant on `p`) sits on one of few paths: `p`
 * itself, a folder above it (`/x` or `/x/` for `/x/a`, as isSameOrUnder compares), or, for a prefix
 * grant, the first n characters of `p`, for each length n some prefix grant has. So instead of
 * comparing a path with every grant, look those few paths up: a lookup costs about the depth of the
 * path plus the number of distinct prefix lengths, whatever the number of grants.
 */

const at = (scope: Scope, p: string) => `${scope}\u0000${p}`;

/** The paths a grant can sit on and still reach `p` (see above); may repeat a path. */
export function reachingPaths(p: string, prefixLengths: Iterable<number>): string[] {
  const out = [p];
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    if (i > 0) out.push(p.slice(0, i));
    if (i + 1 < p.length) out.push(p.slice(0, i + 1));
  }
  for (const n of prefixLengths) if (n < p.length) out.push(p.slice(0, n));
  return out;
}

/**
 * Bring a list of grants into the form Node needs: one grant per key (the first one seen keeps its
 * kind), no fs grant that another grant of the same scope already covers (its evidence moves to the
 * first remaining grant that covers it), fs grants sorted so that parents come before children,
 * boolean scopes after them in a fixed order. Returns new objects; the input is not changed.
 * About n log n: the covering grants of each one are found through a map (see reachingPaths).
 */
export function normaliseGrants(input: readonly Grant[]): Grant[] {
  const byKey = new Map<string, Grant>();
  for (const g of input) {
    const key = grantKey(g);
    const existing = byKey.get(key);
    if (existing) mergeInto(existing, g);
    else byKey.set(key, copyGrant(g));
  }
  const all = [...byKey.values()];
  const index = new Map<Grant, number>(all.map((g, i) => [g, i]));
  const byPath = new Map<string, Grant[]>();
  const prefixLengths = new Map<Scope, Set<number>>();
  for (const g of all) {
    if (g.path === undefined) continue;
    const key = at(g.scope, g.path);
    const list = byPath.get(key);
    if (list) list.push(g);
    else byPath.set(key, [g]);
    if (g.kind === 'prefix') prefixLengths.set(g.scope, (prefixLengths.get(g.scope) ?? new Set()).add(g.path.length));
  }
  const coversOf = (g: Grant): Grant[] => {
    const found = new Set<Grant>();
    for (const q of reachingPaths(g.path!, prefixLengths.get(g.scope) ?? [])) {
      for (const o of byPath.get(at(g.scope, q)) ?? []) if (o !== g && coversGrant(o, g)) found.add(o);
    }
    return [...found];
  };
  const order = (a: Grant, b: Grant) => compareGrants(a, b) || index.get(a)! - index.get(b)!;
  const covered = new Map<Grant, Grant[]>();
  for (const g of all) {
    if (g.path === undefined) continue;
    const above = coversOf(g);
    if (above.length) covered.set(g, above);
  }
  for (const [g, above] of covered) {
    // Coverage is transitive, so some grant that covers g is itself covered by none.
    const cover = above.filter((o) => !covered.has(o)).sort(order)[0]!;
    absorbCovered(cover, g);
  }
  return all.filter((g) => !covered.has(g)).sort(order);
}

function scopeRank(scope: Scope): number {
  if (scope === 'fs.read') return 0;
  if (scope === 'fs.write') return 1;
  return 2 + BOOLEAN_ORDER.indexOf(scope);
}

export function compareGrants(a: Grant, b: Grant): number {
  const rank = scopeRank(a.scope) - scopeRank(b.scope);
  if (rank !== 0) return rank;
  const pa = a.path ?? '';
  const pb = b.path ?? '';
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** The command-line flags for a set of grants, enable flag first. */
export function renderFlags(grants: readonly Grant[], caps: Capabilities): string[] {
  const flags = [caps.enableFlag];
  for (const g of normaliseGrants(grants)) flags.push(renderGrantFlag(g));
  return flags;
}

/** One grant as a flag: `--allow-fs-read=/x/y` or `--allow-worker`. */
export function renderGrantFlag(g: Grant): string {
  const flag = FLAG_OF_SCOPE[g.scope];
  return g.path === undefined ? flag : `${flag}=${renderGrantPath(g.path, g.kind)}`;
}
