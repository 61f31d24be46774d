// `permlearn merge`: several profiles of one app (runs with other arguments, other test suites, other
// machines) as one. Pure: the union of their grants, normalised as Node needs them, with each grant
// saying in how many of the runs something asked for it.
import { capabilitiesOf, parseNodeVersion, type Capabilities } from './node-versions.js';
import { grantKey, normaliseGrants, withTarget, type Grant } from './grants.js';
import { buildProfile, type Exposure, type Profile, type ProfileGrant } from './profile.js';
import { dedupeDenials, denialKey } from './denials.js';
import type { LearnResult, Ungrantable } from './learn/index.js';
import { relocateProfile } from './relocate.js';
import type { Denial, PathKind } from './types.js';
import { grantCovers, type Layout } from './paths/index.js';
import { PermlearnError } from '../errors.js';

export interface MergeInput {
  profile: Profile;
  /** Where it came from (a file name), for messages. */
  name: string;
}

export type MergedGrant = ProfileGrant & {
  /** In how many of the merged profiles something asked for this grant (or a grant it covers). */
  seen: { runs: number; of: number };
};

export interface MergedProfile extends Profile {
  grants: MergedGrant[];
  merged: {
    /** The merged profiles, by name. */
    from: string[];
    /** Whether the union itself was run and verified (set by whoever runs it). */
    verified: boolean;
  };
}

export interface MergeOptions {
  /** Where the result is for (default: the first profile's cwd); other profiles' project paths move here. */
  layout?: Layout;
  /** What a file-system grant covers on disk (the runner looks). */
  exposure?: (path: string, kind: PathKind) => Exposure;
}

function capsOf(p: Profile, name: string): Capabilities {
  const version = parseNodeVersion(p.node);
  if (!version) throw new PermlearnError('usage', `${name}: "node" (${p.node}) is not a Node version`);
  return capabilitiesOf(version);
}

/**
 * The union of `inputs`. The newest Node among them decides the enable flag and which scopes exist. The
 * result is `verified` when every input was (each of its grants was needed by a verified run) and says
 * in `merged.verified: false` that the union as a whole has not been run; a caller that runs it sets both.
 */
export function mergeProfiles(inputs: readonly MergeInput[], options: MergeOptions = {}): MergedProfile {
  if (inputs.length === 0) throw new PermlearnError('usage', 'nothing to merge');
  const first = inputs[0]!.profile;
  const layout: Layout = options.layout ?? { cwd: first.cwd, root: first.cwd };
  const moved = inputs.map((i) => ({ name: i.name, profile: relocateProfile(i.profile, layout), caps: capsOf(i.profile, i.name) }));
  const newest = moved.reduce((a, b) => (compareVersions(b.caps, a.caps) > 0 ? b : a));
  const caps = newest.caps;

  // Every grant, its evidence copied so that each denial remembers which profile it came from.
  const sourceOf = new Map<Denial, number>();
  const keysOf: Set<string>[] = [];
  const grants: Grant[] = [];
  moved.forEach(({ profile }, i) => {
    keysOf.push(new Set(profile.grants.map((g) => grantKey(g))));
    for (const g of profile.grants) {
      const denials = g.denials.map((d) => {
        const copy = { ...d };
        sourceOf.set(copy, i);
        return copy;
      });
      grants.push(withTarget(g, { denials, notes: g.notes }));
    }
  });
  const union = normaliseGrants(grants);
  const seenOf = new Map<string, number>();
  for (const g of union) {
    const runs = new Set<number>();
    for (const d of g.denials) {
      const i = sourceOf.get(d);
      if (i !== undefined) runs.add(i);
    }
    moved.forEach(({ profile }, i) => {
      if (keysOf[i]!.has(grantKey(g))) runs.add(i);
      else if (g.path !== undefined && profile.grants.some((o) => o.scope === g.scope && o.path !== undefined && grantCovers(g.path!, g.kind, o.path)))
        runs.add(i);
    });
    seenOf.set(grantKey(g), runs.size);
  }

  const unverified = moved.filter(({ profile }) => !profile.verified);
  const firstBad = unverified[0];
  const ungrantable = new Map<string, Ungrantable>();
  for (const { profile } of moved) for (const u of profile.ungrantable) ungrantable.set(`${u.code}\u0000${denialKey(u.denial)}`, u);
  const result: LearnResult = {
    status: firstBad ? firstBad.profile.status : 'verified',
    grants: union,
    runs: moved.reduce((n, { profile }) => n + profile.runs, 0),
    observed: dedupeDenials(moved.flatMap(({ profile }) => profile.observed)),
    ungrantable: [...ungrantable.values()],
    refused: moved.flatMap(({ profile }) => profile.refused ?? []),
    ...(firstBad
      ? { reason: `${firstBad.name} did not verify (${firstBad.profile.status}${firstBad.profile.reason ? `: ${firstBad.profile.reason}` : ''})` }
      : {}),
  };
  const base = moved[0]!.profile;
  const built = buildProfile(result, {
    caps,
    entry: base.entry,
    args: base.args,
    cwd: base.cwd,
    strategy: base.strategy,
    ...(base.root !== undefined ? { root: base.root } : {}),
    ...(base.granularity !== undefined ? { granularity: base.granularity } : {}),
    ...(options.exposure ? { exposure: options.exposure } : {}),
  });

  const warnings = [...built.warnings];
  const nodes = [...new Set(moved.map(({ profile }) => profile.node))];
  if (nodes.length > 1) warnings.push(`merged profiles learned under ${nodes.join(', ')}; the result is for ${caps.version.raw}, the newest`);
  const policies = [...new Set(moved.map(({ profile }) => profile.granularity ?? 'file'))];
  if (policies.length > 1) warnings.push(`merged profiles learned with different --granularity (${policies.join(', ')})`);
  for (const { profile } of moved) for (const w of profile.warnings) if (!warnings.includes(w)) warnings.push(w);
  const exercised = moved.filter(({ profile }) => profile.exercise);
  const merged: MergedProfile = {
    ...built,
    ...(base.command ? { command: base.command } : {}),
    ...(exercised.length
      ? {
          exercise: {
            commands: [...new Set(exercised.flatMap(({ profile }) => profile.exercise!.commands))],
            results: exercised.flatMap(({ profile }) => profile.exercise!.results),
          },
        }
      : {}),
    grants: built.grants.map((g) => ({ ...g, seen: { runs: seenOf.get(grantKey(g)) ?? 0, of: inputs.length } })),
    warnings,
    merged: { from: inputs.map((i) => i.name), verified: false },
  };
  return merged;
}

function compareVersions(a: Capabilities, b: Capabilities): number {
  return a.version.major - b.version.major || a.version.minor - b.version.minor || a.version.patch - b.version.patch;
}

/** "seen in 2 of 3 runs". */
export function describeSeen(seen: MergedGrant['seen']): string {
  return `seen in ${seen.runs} of ${seen.of} run${seen.of === 1 ? '' : 's'}`;
}
