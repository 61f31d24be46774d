// A folder the app names anew each run (vitest: `tmpdir()/<random id>/ssr`): every run is denied a path
// no earlier grant covers, so granting each exactly never ends. Two runs that were denied siblings from
// the same call site, whose names differ the way generated ids do, show it; only their common folder
// covers the next name. Pure; the breadth rule (planStep) decides whether that folder may be granted.
import type { Denial, FsProbe, FsScope } from '../types.js';
import type { FsGrant, Grant } from '../grants.js';
import { initialKind } from '../initial-state.js';

/** Shortest name taken for a generated one: mkdtemp's six characters are a prefix grant already. */
const MIN_ID_LENGTH = 8;
const ID = /^[A-Za-z0-9_.-]+$/;

/** Two names the way two generated ids differ: same length, id characters, most positions changed. */
export function looksGenerated(a: string, b: string): boolean {
  if (a === b || a.length !== b.length || a.length < MIN_ID_LENGTH || !ID.test(a) || !ID.test(b)) return false;
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
  return differ * 2 >= a.length;
}

export interface NamedEachRun {
  /** The earlier grant, of the sibling the same call site was denied. */
  old: FsGrant;
  /** Their common folder. */
  folder: string;
  names: [string, string];
}

/** One name of a path left out, with the call site and scope: where a sibling with another id would match. */
function shapeKey(scope: FsScope, site: string, parts: readonly string[], at: number): string {
  return `${scope}\u0000${site}\u0000${parts[at]!.length}\u0000${parts.slice(0, at).join('/')}\u0000${parts.slice(at + 1).join('/')}`;
}

/**
 * The grants of earlier runs of paths that did not exist (a folder the app created, a missing path), by
 * the shape of each path with one id-like name left out: a denial of this run finds a sibling in as many
 * look-ups as its path has names, however many grants there are.
 */
export class NamedEachRunIndex {
  private readonly byShape = new Map<string, FsGrant>();

  constructor(earlier: readonly Grant[]) {
    for (const g of earlier) {
      if ((g.scope !== 'fs.read' && g.scope !== 'fs.write') || g.path === undefined) continue;
      if (g.kind !== 'created-dir' && g.kind !== 'missing') continue;
      const parts = g.path.split('/');
      // A denial with no call site (vitest 4's cleanup, caught inside fs.rm) is matched with another without.
      for (const site of new Set(g.denials.map((d) => d.site ?? ''))) {
        for (let at = 2; at < parts.length; at++) {
          if (parts[at]!.length >= MIN_ID_LENGTH && ID.test(parts[at]!)) this.byShape.set(shapeKey(g.scope, site, parts, at), g as FsGrant);
        }
      }
    }
  }

  /**
   * The earlier grant of a path the same call site was denied that differs from `target` in one name
   * only, both names generated and neither path there before learning; undefined otherwise.
   */
  find(denial: Denial, scope: FsScope, target: string, fs: FsProbe): NamedEachRun | undefined {
    if (this.byShape.size === 0) return undefined;
    const parts = target.split('/');
    for (let at = 2; at < parts.length; at++) {
      const old = this.byShape.get(shapeKey(scope, denial.site ?? '', parts, at));
      if (old === undefined) continue;
      const theirs = old.path.split('/')[at]!;
      if (!looksGenerated(theirs, parts[at]!)) continue;
      const mine = parts.slice(0, at + 1).join('/');
      const folder = parts.slice(0, at).join('/');
      if (initialKind(fs, mine) !== 'missing' || initialKind(fs, `${folder}/${theirs}`) !== 'missing') continue;
      return { old, folder, names: [theirs, parts[at]!] };
    }
    return undefined;
  }
}
