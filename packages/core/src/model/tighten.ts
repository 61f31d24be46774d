// Tight by default: a grant whose only evidence is something the app could have got by without (a
// denial it caught, a has() that said no, a lookup of a path that did not exist) is a candidate, and a
// candidate stays only if the app fails without it. Candidates are tried in groups: most of them turn
// out removable, so the first trial drops them all, and only a failing group is split further.
import type { Denial, FsProbe } from './types.js';
import type { Grant } from './grants.js';
import { isStrictlyUnder, outerNodeModulesOf, resourcePath } from './paths/index.js';
import { initialKind } from './initial-state.js';

/**
 * Evidence that does not show a need: the learn loop marks each such denial when it takes it in
 * (it knows the phase and how the run ended, which a denial alone does not carry).
 */
export class SoftEvidence {
  private readonly soft = new WeakSet<Denial>();

  mark(d: Denial): void {
    this.soft.add(d);
  }

  has(d: Denial): boolean {
    return this.soft.has(d);
  }

  /** A grant is a candidate when it has evidence and all of it is soft. A grant with none (given by the user) is kept. */
  isCandidate(g: Grant): boolean {
    return g.denials.length > 0 && g.denials.every((d) => this.soft.has(d));
  }
}

/**
 * A read of a path that did not exist when it was checked: a lookup (config search, `@types` folders,
 * extension probing). So is a removal of a path that was not there, and a connect to a Unix socket that
 * was not there (tsx's client looks for the socket of a watcher that may have started it, and goes on
 * without): Node 26 checks it as network access.
 */
export function isMissingLookup(d: Denial): boolean {
  if (d.existed !== false) return false;
  if (d.permission === 'FileSystemRead') return true;
  // Removing what is not there (flat-cache's `rmSync(file, { force: true })` of a cache never written).
  if (d.permission === 'FileSystemWrite') return isMissingRemoval(d);
  return d.permission === 'Net' && d.resource.startsWith('/');
}

/** A removal (rm, unlink, rmdir) of a path that did not exist when it was checked: it changed nothing. */
export function isMissingRemoval(d: Denial): boolean {
  return d.permission === 'FileSystemWrite' && d.existed === false && d.call !== undefined && REMOVALS.has(d.call);
}

const REMOVALS = new Set(['rm', 'rmSync', 'unlink', 'unlinkSync', 'rmdir', 'rmdirSync']);

/** The app's own process.permission.has() asking whether it may: a no is an answer it handles. */
export function isHasProbe(d: Denial): boolean {
  return d.asked === 'has';
}

/**
 * A read made inside a `try` with a `catch` (an optional file, a config search that skips what it cannot
 * read), seen by an audit or observe run where nothing failed, so the catch never ran. Marks the denial
 * `guarded`. Never an uncaught denial: that one stopped the app.
 */
export function isGuardedRead(d: Denial, fs: Pick<FsProbe, 'guarded' | 'kind'>): boolean {
  if (d.guarded) return true;
  if (d.permission !== 'FileSystemRead' || d.source === 'uncaught' || d.site === undefined || d.resource === '') return false;
  if (!fs.guarded?.(d.site, d.callers) || fs.kind(resourcePath(d)) !== 'file') return false;
  d.guarded = true;
  return true;
}

/**
 * A lookup of a path that does not exist, made where the try that catches its failure throws or exits
 * on anything it does not expect (`if (e.code !== 'ENOENT') throw e`): a run that let it through saw
 * "not found", which the app handles, but denied it fails the app. A need, then, not a candidate, and
 * granted from the first run that saw it (the exact path) instead of one crash at a time. Never an
 * uncaught denial (that one is granted anyway).
 */
export function isFatalLookup(d: Denial, fs: Pick<FsProbe, 'catchStops' | 'uncaught' | 'kind'>): boolean {
  if (d.permission !== 'FileSystemRead' || d.source === 'uncaught' || d.site === undefined || d.resource === '') return false;
  if (d.existed === true || fs.kind(resourcePath(d)) !== 'missing') return false;
  if (fs.catchStops?.(d.site, d.callers) === true) return true;
  // fs.existsSync answers false for a missing path but throws a denial (20-26): with no try around it,
  // the lookup that was a harmless "no" stops the app (Babel's config search).
  return d.call === 'existsSync' && fs.uncaught?.(d.site, d.callers) === true;
}

/** A denial the app survived: it caught it (20/22 fs wrapper, a printed error) or a channel saw it without it escaping. */
export function isSurvived(d: Denial): boolean {
  return d.source === 'caught' || d.source === 'logged' || d.source === 'channel';
}

/**
 * Split grants into those that stay (evidence of a need) and the candidates to test. `keeps` names
 * grants that stay whatever their evidence: a read of what the app itself writes is its own state
 * (a file it looks for at start-up and creates later, read back on the next start), which a trial
 * from the initial state would not show it needs.
 */
export function splitCandidates(
  grants: readonly Grant[],
  soft: SoftEvidence,
  keeps: (g: Grant) => boolean = () => false,
): { base: Grant[]; candidates: Grant[] } {
  const base: Grant[] = [];
  const candidates: Grant[] = [];
  for (const g of grants) (soft.isCandidate(g) && !keeps(g) ? candidates : base).push(g);
  return { base, candidates };
}

/** One trial: does the app start cleanly (and pass its exercise commands) with exactly these grants? */
export type Trial = (grants: Grant[]) => Promise<boolean>;

export interface Reduction {
  /** The candidates the app needs (the smallest set found: removing any one of them fails the app). */
  kept: Grant[];
  /** The candidates it does without. */
  removed: Grant[];
  /** Trials run. */
  trials: number;
  /** Candidates left in because the trial budget ran out before they could be tried. */
  untried: Grant[];
}

/**
 * Find a small set K of `candidates` such that `base ∪ K` passes, given that `base ∪ candidates`
 * passes. Recursive halving (in the manner of QuickXplain): try without a whole group first; only a
 * group that cannot go is split, so d needed candidates among n cost about 2·d·log2(n/d) trials, and
 * none needed costs one. `baseFails` says the trial of `base` alone is already known to fail (it was
 * the verification run), which saves that trial.
 */
export async function reduceCandidates(
  base: readonly Grant[],
  candidates: readonly Grant[],
  trial: Trial,
  opts: { maxTrials: number; baseFails?: boolean },
): Promise<Reduction> {
  let trials = 0;
  const untried: Grant[] = [];
  const attempt = async (grants: Grant[]): Promise<boolean | undefined> => {
    if (trials >= opts.maxTrials) return undefined;
    trials++;
    return trial(grants);
  };
  // The part of `cands` that `fixed ∪ part` needs; `fixedFails`: `fixed` alone is known to fail.
  const reduce = async (fixed: Grant[], cands: Grant[], fixedFails: boolean): Promise<Grant[]> => {
    if (cands.length === 0) return [];
    if (!fixedFails) {
      const ok = await attempt(fixed);
      if (ok === undefined) {
        untried.push(...cands);
        return cands;
      }
      if (ok) return [];
    }
    if (cands.length === 1) return cands;
    const half = Math.ceil(cands.length / 2);
    const a = cands.slice(0, half);
    const b = cands.slice(half);
    // Here `fixed` alone fails. What of `a` is needed while all of `b` is there; then what of `b` is
    // needed next to that (with nothing of `a` kept, that is `fixed` again, known to fail).
    const keptA = await reduce([...fixed, ...b], a, false);
    const keptB = await reduce([...fixed, ...keptA], b, keptA.length === 0);
    return [...keptA, ...keptB];
  };
  const kept = await reduce([...base], [...candidates], opts.baseFails === true);
  const keptSet = new Set(kept);
  return { kept, removed: candidates.filter((g) => !keptSet.has(g)), trials, untried };
}

/** fs functions that read a path's metadata or link target, never a folder's entries. */
const METADATA_CALL = /^(l?stat|readlink|realpath|access|exists)(Sync)?$/;

/** fs functions that take a file's contents. */
const CONTENT_CALL = /^(readFile|open|createReadStream|readv?|openAsBlob)(Sync)?$/;

/**
 * A read of the contents of a file of the project (there before learning, outside node_modules):
 * dotenv's `.env`, an optional override, a config file read inside a try. The app survives the denial,
 * but then runs without what the file says, and a run's exit cannot tell a default from the user's
 * setting (a profile without `.env` starts, and every database call fails later). Not a tightening
 * candidate, however it was caught; `--minimize` may still try without it.
 */
export function readsProjectContent(d: Denial, fs: FsProbe, root: string | undefined): boolean {
  if (root === undefined || d.permission !== 'FileSystemRead' || d.resource === '' || d.call === undefined || !CONTENT_CALL.test(d.call)) return false;
  const p = resourcePath(d);
  if (!isStrictlyUnder(p, root) || outerNodeModulesOf(p) !== undefined) return false;
  return initialKind(fs, p) === 'file';
}

/** A check of a folder's own path by a call that does not list it, which the app did not die of. */
export function isFolderMetadataCheck(d: Denial, folder: string): boolean {
  return d.permission === 'FileSystemRead' && d.source !== 'uncaught' && d.call !== undefined && METADATA_CALL.test(d.call) && resourcePath(d) === folder;
}

/** A grant whose whole evidence is metadata checks of its own folder: what narrowing leaves out. */
export function isFolderMetadataGrant(g: Grant): boolean {
  return g.scope === 'fs.read' && g.kind === 'dir' && g.path !== undefined && g.denials.length > 0 && g.denials.every((d) => isFolderMetadataCheck(d, g.path!));
}
