// The learn loop, from outside: the loop itself and the pieces the runner, the profile and the tests use.
export type {
  RunResult,
  ReadyBy,
  EvidenceCounts,
  ExerciseResult,
  Phase,
  PrimePhase,
  DropPhase,
  RunRequest,
  RunApp,
  LearnStatus,
  Ungrantable,
  Refusal,
  LearnEvent,
  LearnOptions,
  LearnResult,
  Tightened,
  Minimized,
} from './types.js';
export { runSucceeded, exerciseFailed, describeOutcome } from './outcome.js';
export { selectDenials, preferPresent, siblingLookups, caughtRequests } from './candidates.js';
export {
  auditCandidates,
  isIdleProbe,
  observeCandidates,
  learnStrategy,
  autoStrategy,
  LEARN_STRATEGY_ENTRIES,
  type PrimeStrategy,
  type StrategyEntry,
  type StrategyEnvironment,
} from './strategies/index.js';
export { breadthContext, unacceptedBreadth, describeRefusal, planStep, promoteCreatedDirs } from './plan-step.js';
export { MAX_NARROWED } from './minimize.js';
export { learn } from './loop.js';
