// `permlearn check`: a committed profile against what a fresh run of the app needed. Pure: two profiles
// in, findings out. Needs are compared by their evidence (the resources the app asked for), not by the
// flags' spelling, so a profile learned in another checkout, or widened differently, compares fairly.
import path from 'node:path';
import { capabilitiesOf, parseNodeVersion, type Capabilities } from './node-versions.js';
import { needOf } from './denials.js';
import { grantCovers, resolveResource, takesInGrant, type Layout, type PathGrant } from './paths/index.js';
import type { Profile, ProfileGrant } from './profile.js';
import type { Denial, PathKind, Scope } from './types.js';
import { withTarget, type GrantTarget } from './grants.js';
import { relocateProfile } from './relocate.js';
import { PermlearnError } from '../errors.js';

/** A grant the fresh run needed that the committed profile lacks. */
export type NewNeed = GrantTarget & {
  /** The grant the fresh run made (absolute path, in the current checkout). */
  flag: string;
  /** The denials no committed grant answers: what was asked for, and who asked (`by`, `at`, `site`). */
  evidence: Denial[];
};

/** A committed grant nothing in the fresh run asked for. */
export type UnusedGrant = GrantTarget & {
  /** The committed grant, moved to the current checkout. */
  flag: string;
  /** Why it was granted when the profile was learned. */
  evidence: Denial[];
};

export interface ProfileComparison {
  /** Where the paths are (the current run's cwd and project root). */
  layout: Layout;
  added: NewNeed[];
  unused: UnusedGrant[];
  /** Committed grants still in use. */
  kept: number;
  committedNode: string;
  currentNode: string;
  /** Scopes the current Node does not restrict at all, whose committed grants are therefore neither used nor unused. */
  unenforced: Scope[];
}

export interface CompareOptions {
  /** The project around the current run's cwd (default: that cwd); the committed profile's paths move with it. */
  root?: string;
}

function capsOf(profile: Profile): Capabilities {
  const version = parseNodeVersion(profile.node);
  if (!version) throw new PermlearnError('usage', `the profile's "node" (${profile.node}) is not a Node version`);
  return capabilitiesOf(version);
}

/** The path a file-system denial stands for (an mkdtemp template stays a template, which its prefix grant covers). */
function evidencePath(d: Denial, scope: Scope, caps: Capabilities, cwd: string): string | undefined {
  const need = needOf(d.cwd === undefined ? { ...d, cwd } : d, caps);
  if (need.type !== 'fs' || need.scope !== scope) return undefined;
  return need.prefix ? resolveResource(d.resource, d.cwd ?? cwd) : need.path;
}

function covers(g: PathGrant, target: string): boolean {
  return g.path !== undefined && grantCovers(g.path, g.kind, target);
}

/**
 * Compare `committed` with `current` (a fresh, verified run of the same app). A need is new when some
 * evidence of a current grant is covered by no committed grant of that scope (or, for a grant without
 * file-system evidence, when no committed grant covers its path). A committed grant is unused when it
 * covers no current evidence and no current grant.
 */
export function compareProfiles(committed: Profile, current: Profile, options: CompareOptions = {}): ProfileComparison {
  const layout: Layout = { cwd: current.cwd, root: path.resolve(options.root ?? current.cwd) };
  const before = relocateProfile(committed, layout);
  const caps = capsOf(current);
  const unenforced = [...caps.unrestricted];

  const added: NewNeed[] = [];
  for (const g of current.grants) {
    const same = before.grants.filter((c) => c.scope === g.scope);
    let evidence: Denial[];
    if (g.path === undefined) {
      if (same.length > 0) continue;
      evidence = g.denials;
    } else {
      const fsEvidence = g.denials.flatMap((d) => {
        const p = evidencePath(d, g.scope, caps, current.cwd);
        return p === undefined ? [] : [{ d, p }];
      });
      if (fsEvidence.length > 0) {
        evidence = fsEvidence.filter(({ p }) => !same.some((c) => covers(c, p))).map(({ d }) => d);
        if (evidence.length === 0) continue;
      } else {
        if (same.some((c) => takesInGrant(c, g))) continue;
        evidence = g.denials;
      }
    }
    added.push(withTarget(g, { flag: g.flag, evidence }));
  }

  // Everything the current run asked for, by scope.
  const asked = new Map<Scope, PathGrant[]>();
  for (const g of current.grants) {
    const list = asked.get(g.scope) ?? [];
    if (g.path !== undefined) list.push({ path: g.path, kind: g.kind });
    for (const d of g.denials) {
      const p = evidencePath(d, g.scope, caps, current.cwd);
      if (p !== undefined) list.push({ path: p, kind: 'file' });
    }
    asked.set(g.scope, list);
  }
  const unused: UnusedGrant[] = [];
  let kept = 0;
  for (const c of before.grants) {
    if (caps.unrestricted.has(c.scope)) continue;
    const paths = asked.get(c.scope);
    const used = paths !== undefined && (c.path === undefined || paths.some((p) => takesInGrant(c, p)));
    if (used) {
      kept++;
      continue;
    }
    unused.push(withTarget(c, { flag: c.flag, evidence: c.denials }));
  }
  return {
    layout,
    added,
    unused,
    kept,
    committedNode: committed.node,
    currentNode: current.node,
    unenforced: unenforced.filter((s) => before.grants.some((g) => g.scope === s)),
  };
}
