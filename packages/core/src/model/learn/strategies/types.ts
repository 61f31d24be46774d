// What a learn strategy is: how its priming runs are made and read, before the enforce loop confirms
// their grants. A strategy with no priming runs (`rerun`) is no PrimeStrategy at all.
import type { Denial, Strategy } from '../../types.js';
import type { Capabilities } from '../../node-versions.js';
import type { Grant } from '../../grants.js';
import type { LearnEvent, LearnOptions, PrimePhase, RunResult } from '../types.js';

export interface PrimeStrategy {
  name: Strategy;
  /** The phase of its runs (the runner runs an `audit` run under --permission-audit, an `observe` run with the observer, a `learn` run as any enforce run). */
  phase: PrimePhase;
  /** Priming runs at most (each within the run budget); after the first, `again` decides. */
  maxRounds: number;
  /** A denial its run survived shows no need by itself (tightening tries without it). */
  survivedIsSoft: boolean;
  /** Temporary grants for a priming run only, given the grants so far. */
  extraGrants(grants: readonly Grant[]): Grant[];
  /** The run's evidence to grant (vetted and planned by the loop). */
  candidates(r: RunResult, opts: Pick<LearnOptions, 'caps' | 'fs' | 'implicitReadGrants'>): Denial[];
  /** What the run saw that is not granted: reported as observed, and kept as lookups (siblingLookups). */
  seen(r: RunResult): { observed: Denial[]; lookups: Denial[] };
  /** The event that closes a priming run, when it has its own variant of LearnEvent (else the loop emits `prime-done`). */
  doneEvent?(r: RunResult, run: number, candidates: readonly Denial[]): LearnEvent;
  /** Another priming run after this one? `learnedMore`: this run changed the grants. */
  again(r: RunResult, learnedMore: boolean): boolean;
}

/** What the runner knows when it picks a strategy. */
export interface StrategyEnvironment {
  caps: Capabilities;
  /** The app root: the wide read grant of an observe run. */
  root: string;
  /** Why a read grant of the whole root would break the breadth rule, if it would. */
  rootTooBroad?: string | undefined;
}

/** A strategy by name: whether it can run here, and the PrimeStrategy it stands for. */
export interface StrategyEntry {
  /** Why this strategy cannot run here (completing `--strategy <name> …`), or undefined when it can. */
  unavailable(env: StrategyEnvironment): string | undefined;
  prime(setup: { root: string }): PrimeStrategy | undefined;
}
