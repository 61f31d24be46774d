// Tightening by call site, led by evidence. A tightening candidate is kept or dropped with the other
// candidates its own code asked for: the lookups of missing paths one call site made (a search for
// `pnpm-workspace.yaml` in every folder up to `/`, a config file under five names) are one unit, since
// the code that walks them needs all or none of them. And a trial that fails says where: when what it
// acted on (the denials a failed run is read for) are only checks a single unit's grants answer, or
// denials that escaped the app, those units are what it failed without, with no further trial. Only
// when a failed trial names no single unit is the group split in two, as `reduceCandidates` does.
import path from 'node:path';
import type { Denial, FsProbe } from '../types.js';
import { GrantSet, type Grant } from '../grants.js';
import { resourcePath } from '../paths/index.js';
import { isCoveredDenial, readsMissing, sameAsker, selectDenials, siteFile } from './candidates.js';
import { startedCleanly } from './outcome.js';
import type { RunResult } from './types.js';
import { searchOneMissingFolder } from './missing-folder.js';

/** Candidates tried together: one call site's lookups of missing paths, or one other candidate alone. */
export interface Unit {
  grants: Grant[];
  /** The call site (file:line, no column) whose lookups these are; absent for a single other candidate. */
  site?: string;
}

/** The call sites of a grant that only answers lookups of a missing path; undefined for any other grant. */
function lookupSites(g: Grant, fs: FsProbe): string[] | undefined {
  if (g.scope !== 'fs.read' || g.kind !== 'missing' || g.denials.length === 0) return undefined;
  const sites: string[] = [];
  for (const d of g.denials) {
    if (d.site === undefined || d.permission !== 'FileSystemRead' || !(d.existed === false || readsMissing(d, fs))) return undefined;
    sites.push(siteFile(d.site));
  }
  return [...new Set(sites)];
}

/**
 * Two lookups of one search: the same folder under other names (`eslint.config.mjs`, `.cjs` …), or the
 * same name in a folder above (`pnpm-workspace.yaml` up to `/`). Lookups of one name in sibling folders
 * (each dependency's `package.json`) are not: a loop over several things, each needed or not by itself.
 */
export function sameSearch(a: string, b: string): boolean {
  const da = path.dirname(a);
  const db = path.dirname(b);
  if (da === db) return true;
  if (path.basename(a) !== path.basename(b)) return false;
  const above = (x: string, y: string) => x === '/' || y.startsWith(x + '/');
  return above(da, db) || above(db, da);
}

/**
 * Group the candidates into units: the lookups of missing paths one call site made as one search
 * (`sameSearch`, joined transitively), everything else alone; units in the order of their first grant.
 */
export function candidateUnits(candidates: readonly Grant[], fs: FsProbe): Unit[] {
  const units: Unit[] = [];
  const lookups: { g: Grant; sites: string[]; unit: Unit }[] = [];
  for (const g of candidates) {
    const sites = lookupSites(g, fs);
    if (!sites) {
      units.push({ grants: [g] });
      continue;
    }
    const joined = [...new Set(lookups.filter((l) => l.sites.some((s) => sites.includes(s)) && sameSearch(l.g.path!, g.path!)).map((l) => l.unit))];
    const unit = joined[0] ?? { grants: [], site: sites[0]! };
    if (!joined[0]) units.push(unit);
    for (const other of joined.slice(1)) {
      unit.grants.push(...other.grants);
      units.splice(units.indexOf(other), 1);
      for (const l of lookups) if (l.unit === other) l.unit = unit;
    }
    unit.grants.push(g);
    lookups.push({ g, sites, unit });
  }
  return units;
}

/**
 * A failed enforce run acted only on lookups of missing paths that one call site made as one search,
 * asked for by one caller of it (`sameAsker`; with `sole`, the one denial such a run had, among them):
 * the app failed on that search. Its
 * lookups, and those the first runs saw of the same search (`siblings`), are what it failed without,
 * not candidates: dropping them would only repeat the failure. Returns which of them that is.
 */
export function failedSearch(succeeded: boolean, acted: readonly Denial[], siblings: readonly Denial[], fs: FsProbe, root?: string): (d: Denial) => boolean {
  const no = () => false;
  if (succeeded || acted.length === 0) return no;
  const lookup = (d: Denial) => d.permission === 'FileSystemRead' && d.site !== undefined && (d.existed === false || readsMissing(d, fs));
  if (!acted.every(lookup)) return no;
  const first = acted[0]!;
  if (!acted.every((d) => sameAsker(d, first))) return no;
  // Names under one folder that was not there (missing-folder.ts) are one search, at any depth below it.
  if (searchOneMissingFolder(acted, root, fs)) {
    const inFolder = new Set<Denial>([...acted, ...siblings.filter((d) => lookup(d) && sameAsker(first, d) && searchOneMissingFolder([first, d], root, fs))]);
    return (d) => inFolder.has(d);
  }
  const paths = acted.map(resourcePath);
  if (!paths.every((p) => sameSearch(p, paths[0]!))) return no;
  // The search, joined transitively: `pnpm-workspace.yaml` and `lerna.json` in one folder, each name up to `/`.
  const inSearch = new Set<Denial>(acted);
  const found = [...paths];
  const rest = siblings.filter((d) => lookup(d) && acted.some((a) => sameAsker(a, d)));
  for (let grew = true; grew;) {
    grew = false;
    for (const d of rest) {
      if (inSearch.has(d) || !found.some((p) => sameSearch(p, resourcePath(d)))) continue;
      inSearch.add(d);
      found.push(resourcePath(d));
      grew = true;
    }
  }
  return (d) => inSearch.has(d);
}

/**
 * The units a failed trial shows the app needs, or undefined when it shows none for certain. Every
 * denial it acted on that a unit answers must be either escaped or printed by the app (each one
 * stopped it), or all of them answered by the one unit; and no escaped or printed denial may be
 * answered by nothing (then the failure is something else's).
 */
export function provenUnits(r: RunResult, units: readonly Unit[]): { proven: Unit[] } | { hit: Unit[] } | undefined {
  // Every denial the run is read for, present paths and lookups alike: which one it failed on is the question.
  const acted = selectDenials(r);
  if (acted.length === 0) return undefined;
  const indexes = units.map((u) => GrantSet.view(u.grants));
  const hit = new Set<Unit>();
  let certain = true;
  for (const d of acted) {
    const i = indexes.findIndex((index) => isCoveredDenial(d, index));
    const stopped = d.source === 'uncaught' || d.source === 'logged';
    if (i < 0) {
      if (stopped) return undefined;
      continue;
    }
    hit.add(units[i]!);
    if (!stopped) certain = false;
  }
  if (hit.size === 0) return undefined;
  const hits = units.filter((u) => hit.has(u));
  return certain || hits.length === 1 ? { proven: hits } : { hit: hits };
}

export interface UnitReduction {
  kept: Grant[];
  removed: Grant[];
  untried: Grant[];
  trials: number;
  /** Units a failed trial proved needed, with no trial of their own. */
  proven: number;
}

/**
 * Find the units `base` needs, given that `base` with all of them passes and `base` alone fails (the
 * verification run without the candidates). Recursive halving over units, as `reduceCandidates` does
 * over grants, with one change: a trial that fails and names units among those it went without keeps
 * them at once, and only the rest is tried further (one trial, where halving would spend two per level).
 */
export async function reduceUnits(
  base: readonly Grant[],
  units: readonly Unit[],
  trial: (grants: Grant[]) => Promise<RunResult>,
  opts: { maxTrials: number; fs: FsProbe },
): Promise<UnitReduction> {
  let trials = 0;
  let proven = 0;
  const untried: Unit[] = [];
  const flat = (us: readonly Unit[]) => us.flatMap((u) => u.grants);
  // The part of `cands` that `fixed` with that part needs; `fixedFails`: `fixed` alone is known to fail.
  const reduce = async (fixed: Grant[], cands: Unit[], fixedFails: boolean): Promise<Unit[]> => {
    if (cands.length === 0) return [];
    if (!fixedFails) {
      if (trials >= opts.maxTrials) {
        untried.push(...cands);
        return cands;
      }
      trials++;
      const r = await trial(fixed);
      if (startedCleanly(r)) return [];
      const seen = provenUnits(r, cands);
      if (seen && 'proven' in seen) {
        proven += seen.proven.length;
        const rest = cands.filter((u) => !seen.proven.includes(u));
        return [...seen.proven, ...(await reduce([...fixed, ...flat(seen.proven)], rest, false))];
      }
    }
    if (cands.length === 1) return cands;
    const half = Math.ceil(cands.length / 2);
    const a = cands.slice(0, half);
    const b = cands.slice(half);
    // Here `fixed` alone fails: what of `a` is needed with all of `b` there, then what of `b` next to that.
    const keptA = await reduce([...fixed, ...flat(b)], a, false);
    const keptB = await reduce([...fixed, ...flat(keptA)], b, keptA.length === 0);
    return [...keptA, ...keptB];
  };
  const kept = await reduce([...base], [...units], true);
  const keep = new Set(flat(kept));
  return { kept: flat(kept), removed: flat(units).filter((g) => !keep.has(g)), untried: flat(untried), trials, proven };
}
