// Children that were started with fewer grants than the app. A Node child forked with an execArgv of
// its own (a tool that rebuilds it as a key→value map keeps one value per flag: the last
// --allow-fs-read) is denied what the app's flags grant. Its recorder says which permission flags it
// really had (its execArgv, and NODE_OPTIONS); this compares them with the app's. Pure.
// Also: a denial a child's code caught is still the cause of a failure the child passed on to the app
// (a test runner's worker catches it and fails the test), see soleCause.
import type { ChildFlags, Denial } from './types.js';

export interface LostInChild {
  /** The app's flags the child did not get, in the app's order. */
  lost: string[];
  /** One sentence: what the child was given instead, and the likely cause. */
  why: string;
}

function nameOf(flag: string): string {
  const eq = flag.indexOf('=');
  return eq === -1 ? flag : flag.slice(0, eq);
}

/**
 * The app's flags (`appFlags`, as rendered for this run, `--permission` first) that a child denied
 * `denial` was not given, or undefined when the denial carries no word from the child or the child
 * had every one of them (then something else is wrong, and the caller says so).
 */
export function lostInChild(denial: Denial, appFlags: readonly string[], own: ReadonlySet<string> = new Set()): LostInChild | undefined {
  const given: ChildFlags | undefined = denial.given;
  if (denial.thread !== 'child' || given === undefined) return undefined;
  const had = new Set([...given.execArgv, ...given.nodeOptions]);
  const lost = appFlags.filter((f) => f.startsWith('--allow-') && !had.has(f));
  if (lost.length === 0) return undefined;
  // One value left per repeated flag, the app's last: a key→value rebuild of execArgv.
  const repeated = [...new Set(lost.map(nameOf))].filter((name) => appFlags.filter((f) => nameOf(f) === name).length > 1);
  const oneEach = repeated.length > 0 && repeated.every((name) => given.execArgv.filter((f) => nameOf(f) === name).length <= 1);
  const kept = given.execArgv.filter((f) => f.startsWith('--allow-') && !own.has(f));
  const keptText = kept.length ? `only ${kept.join(' ')} in its execArgv` : 'no grant in its execArgv';
  const cause = oneEach
    ? `its parent rebuilt its execArgv with one value per flag (a key→value map keeps only the last ${repeated.join(', ')})`
    : 'its parent started it with an execArgv of its own';
  return { lost: lost.filter((f) => !own.has(f)), why: `a Node child was started with ${keptText}: ${cause}` };
}

/** The one-line reason learning gives when no output can reach such a child. */
export function describeLost(l: LostInChild): string {
  return l.lost.length ? `${l.why}; it lost ${l.lost.join(' ')}` : l.why;
}

/**
 * The denial a failed run failed on, when it had exactly one (module loads aside): the app failed
 * without it, so it is a need, however the app (or a test runner's forked worker) caught it first.
 * Tightening would otherwise try without it, fail, and put it back: a run spent to learn nothing.
 */
export function soleCause(succeeded: boolean, denials: readonly Denial[]): Denial | undefined {
  if (succeeded) return undefined;
  const real = denials.filter((d) => d.source !== 'loaded');
  return real.length === 1 ? real[0] : undefined;
}

/**
 * After a run: the first Node child that was started from the run's own permission flags (its execArgv
 * holds some of them) but lost some of `passed` (the permission words on the run's command line),
 * neither in its execArgv nor in NODE_OPTIONS. A child with no permission flag in its execArgv is not
 * one: it was given an execArgv of its own, or was spawned (22+ passes the flags in NODE_OPTIONS).
 */
export function childLostFlags(
  processes: readonly { thread: string; main?: string; given?: ChildFlags }[],
  passed: readonly string[],
  own: ReadonlySet<string> = new Set(),
): LostInChild | undefined {
  for (const p of processes) {
    if (p.thread !== 'child' || p.given === undefined) continue;
    if (!p.given.execArgv.some((w) => w.startsWith('--allow-'))) continue;
    const found = lostInChild({ permission: '', resource: '', code: '', source: 'caught', thread: 'child', given: p.given }, passed, own);
    if (found) return p.main ? { ...found, why: found.why.replace('a Node child', `a Node child (${p.main})`) } : found;
  }
  return undefined;
}
