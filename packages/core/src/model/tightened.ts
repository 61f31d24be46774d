// What tightening left out, as a profile says it: each grant that went, why it was only a candidate
// (its evidence showed no need by itself) and who asked for it, so a reader can see what was tried.
import type { Denial } from './types.js';
import type { Grant } from './grants.js';
import { renderGrantFlag } from './grants.js';
import { isFolderMetadataGrant, isHasProbe, isMissingLookup, isSurvived } from './tighten.js';

/** A profile lists at most this many of a left-out grant's denials (the rest are counted in `asks`). */
export const TIGHTENED_DENIALS = 5;

export interface TightenedGrant {
  flag: string;
  /** Why the grant was only a candidate. */
  why: string;
  /** How many checks asked for it. */
  asks: number;
  /** The first of them (at most TIGHTENED_DENIALS), with who asked. */
  denials: Denial[];
}

export interface ProfileTightened {
  /** Grants the app started (and ran its exercise commands) without, in the verification run or a trial. */
  removed: TightenedGrant[];
  /** Candidates the app failed without: they are in the profile. */
  kept: string[];
  /** Candidates left in untried because the run budget ran out. */
  untried: string[];
  /** Trial runs spent beyond the verification run. */
  trials: number;
}

/** Why a candidate's evidence showed no need: what kinds of soft evidence it had. */
export function whyCandidate(denials: readonly Denial[]): string {
  const missing = denials.filter(isMissingLookup).length;
  const asked = denials.filter((d) => !isMissingLookup(d) && isHasProbe(d)).length;
  const survived = denials.filter((d) => !isMissingLookup(d) && !isHasProbe(d) && isSurvived(d) && !d.guarded).length;
  const guarded = denials.filter((d) => !isMissingLookup(d) && !isHasProbe(d) && d.guarded).length;
  const kinds: string[] = [];
  if (missing) kinds.push('lookups of paths that did not exist');
  if (asked) kinds.push('process.permission.has() asking whether it may');
  if (survived) kinds.push('denials the app caught or got by without');
  if (guarded) kinds.push('reads inside a try block with a catch');
  if (missing + asked + survived + guarded < denials.length) kinds.push('the rest of a lookup');
  return `only ${kinds.join(' and ') || 'soft evidence'}, and the app started without it`;
}

export function describeTightened(t: { removed: readonly Grant[]; kept: readonly Grant[]; untried: readonly Grant[]; trials: number }): ProfileTightened {
  return {
    removed: t.removed.map((g) => ({
      flag: renderGrantFlag(g),
      why: isFolderMetadataGrant(g)
        ? `only ${[...new Set(g.denials.map((d) => d.call))].join('/')} of the folder itself, which is not a listing, and the app started with what it read inside the folder granted on its own`
        : whyCandidate(g.denials),
      asks: g.denials.reduce((n, d) => n + (d.hits ?? 1), 0),
      denials: g.denials.slice(0, TIGHTENED_DENIALS),
    })),
    kept: t.kept.map(renderGrantFlag),
    untried: t.untried.map(renderGrantFlag),
    trials: t.trials,
  };
}
