// The grant model: what a profile grants, why, and how a set of grants is kept in the form Node needs
// (no duplicates, nothing covered by another grant, parents before children).
import type { Denial, FsScope, PathKind, Scope } from './types.js';
import { grantCovers, isStrictlyUnder, renderGrantPath } from './paths.js';
import { FLAG_OF_SCOPE, type Capabilities } from './node-versions.js';

/** Something worth telling the user about one grant. */
export interface GrantNote {
  code: 'widened-for-node-quirk' | 'created-at-run-time' | 'mkdtemp-prefix' | 'generalised' | 'accepted-broad';
  detail: string;
}

export interface Grant {
  scope: Scope;
  /** Absolute path, for fs scopes only. */
  path?: string;
  kind?: PathKind;
  /** The denials this grant answers (its evidence). */
  denials: Denial[];
  notes: GrantNote[];
}

export const FS_SCOPES: readonly FsScope[] = ['fs.read', 'fs.write'];
const BOOLEAN_ORDER: readonly Scope[] = ['child', 'worker', 'addon', 'wasi', 'inspector', 'openssl.store', 'net', 'ffi'];

export function isFsScope(scope: Scope): scope is FsScope {
  return scope === 'fs.read' || scope === 'fs.write';
}

/** A stable identity for a grant: scope plus rendered path. */
export function grantKey(g: Pick<Grant, 'scope' | 'path' | 'kind'>): string {
  return g.path === undefined ? g.scope : `${g.scope}\u0000${renderGrantPath(g.path, g.kind ?? 'file')}`;
}

/** Does any grant in `grants` allow `target` in `scope`? Returns the covering grant. */
export function findCovering(grants: readonly Grant[], scope: Scope, target?: string): Grant | undefined {
  return grants.find((g) => {
    if (g.scope !== scope) return false;
    if (g.path === undefined || target === undefined) return g.path === undefined && target === undefined;
    return grantCovers(g.path, g.kind ?? 'file', target);
  });
}

function mergeInto(into: Grant, from: Grant): void {
  into.denials.push(...from.denials);
  for (const note of from.notes) {
    if (!into.notes.some((n) => n.code === note.code && n.detail === note.detail)) into.notes.push(note);
  }
}

/**
 * Bring a list of grants into the form Node needs: one grant per key, no fs grant that another
 * grant of the same scope already covers (its evidence moves to the covering grant), fs grants
 * sorted so that parents come before children, boolean scopes after them in a fixed order.
 * Returns new objects; the input is not changed.
 */
export function normaliseGrants(input: readonly Grant[]): Grant[] {
  const byKey = new Map<string, Grant>();
  for (const g of input) {
    const copy: Grant = { ...g, denials: [...g.denials], notes: [...g.notes] };
    const existing = byKey.get(grantKey(g));
    if (existing) mergeInto(existing, copy);
    else byKey.set(grantKey(g), copy);
  }
  const all = [...byKey.values()];
  const kept: Grant[] = [];
  for (const g of all) {
    if (g.path === undefined) {
      kept.push(g);
      continue;
    }
    const cover = all.find(
      (o) => o !== g && o.scope === g.scope && o.path !== undefined && coversGrant(o, g),
    );
    if (cover) mergeInto(cover, g);
    else kept.push(g);
  }
  return kept.sort(compareGrants);
}

/** Whether grant `a` makes grant `b` (same scope) redundant. */
function coversGrant(a: Grant, b: Grant): boolean {
  if (a.path === undefined || b.path === undefined) return false;
  const aKind = a.kind ?? 'file';
  const bKind = b.kind ?? 'file';
  const aSubtree = aKind === 'dir' || aKind === 'created-dir';
  if (bKind === 'prefix') {
    // `/x/a*` reaches `/x/ab`: only a directory strictly above it, or a shorter prefix, covers all of that.
    return (aSubtree && isStrictlyUnder(b.path, a.path)) || (aKind === 'prefix' && b.path.startsWith(a.path));
  }
  if (bKind === 'dir' || bKind === 'created-dir') {
    // On the same path `D/*` covers `D`, not the other way round, so exactly one of the two survives.
    if (a.path === b.path) return aKind === 'created-dir' && bKind === 'dir';
    return (aSubtree && isStrictlyUnder(b.path, a.path)) || (aKind === 'prefix' && grantCovers(a.path, aKind, b.path));
  }
  return grantCovers(a.path, aKind, b.path);
}

function scopeRank(scope: Scope): number {
  if (scope === 'fs.read') return 0;
  if (scope === 'fs.write') return 1;
  return 2 + BOOLEAN_ORDER.indexOf(scope);
}

function compareGrants(a: Grant, b: Grant): number {
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
  return g.path === undefined ? flag : `${flag}=${renderGrantPath(g.path, g.kind ?? 'file')}`;
}
