// `rerun`: enforce runs only, from no grants; no priming run at all.
import type { StrategyEntry } from './types.js';

export const rerun: StrategyEntry = {
  unavailable: () => undefined,
  prime: () => undefined,
};
