// Every learn strategy, by name: the one registration a new strategy needs (next to its own file).
import type { Strategy } from '../../types.js';
import { audit } from './audit.js';
import { observe } from './observe.js';
import { rerun } from './rerun.js';
import type { PrimeStrategy, StrategyEntry, StrategyEnvironment } from './types.js';

export type { PrimeStrategy, StrategyEntry, StrategyEnvironment } from './types.js';
export { auditCandidates, isIdleProbe } from './audit.js';
export { observeCandidates } from './observe.js';

/** Keyed by every name in LEARN_STRATEGIES (types.ts): the compiler asks for an entry for a new one. */
export const LEARN_STRATEGY_ENTRIES: { readonly [S in Strategy]: StrategyEntry } = { audit, observe, rerun };

/** `auto`: the first of these that can run here. */
export const AUTO_ORDER: readonly Strategy[] = ['audit', 'observe', 'rerun'];

/** The strategy `auto` stands for here. */
export function autoStrategy(env: StrategyEnvironment): Strategy {
  return AUTO_ORDER.find((s) => LEARN_STRATEGY_ENTRIES[s].unavailable(env) === undefined) ?? 'rerun';
}

/** The priming runs of a strategy (undefined: none, the enforce loop from the start). */
export function learnStrategy(name: Strategy, setup: { root: string } = { root: '' }): PrimeStrategy | undefined {
  return LEARN_STRATEGY_ENTRIES[name].prime(setup);
}
