// @permlearn/core: the pure model (model/) and the parts that run processes (runner/).
export * from './model/types.js';
export * from './model/node-versions.js';
export * from './model/paths/index.js';
export * from './model/breadth.js';
export * from './model/grants.js';
export * from './model/denials.js';
export * from './model/parse-stderr.js';
export * from './model/parse-events.js';
export * from './model/learn/index.js';
export * from './model/profile.js';
export * from './model/risks.js';
export * from './model/render.js';
export * from './model/attribute.js';
export * from './model/generalise.js';
export * from './model/drop-plan/index.js';
export * from './model/config.js';
export * from './model/relocate.js';
export * from './model/compare.js';
export * from './model/merge.js';
export * from './model/suggest.js';
export * from './model/volatile.js';
export * from './model/initial-state.js';
export * from './model/records/index.js';
export * from './model/tightened.js';
export * from './errors.js';
export {
  learnApp,
  learnCommand,
  packageScript,
  DEFAULTS,
  type LearnAppOptions,
  type LearnCommandOptions,
  type LearnAppResult,
  type Strategy,
} from './runner/learn-app.js';
export { gitRoot, findProjectRoot, packageRoot, entryProjectRoot } from './runner/project.js';
export { runAppCleanly, writeGrantsOf } from './runner/run-cleanly.js';
export { appEnvironment, permlearnInstallation, insideInstallation, type Installation } from './runner/app-env.js';
export { CleanState, initialAreas, type Area } from './runner/clean-state.js';
export { runApp, portAccepting, type AppSpec, type Readiness, type RunOptions } from './runner/run-app.js';
export { probeNode } from './runner/node-binary.js';
export { writeFileAtomic, checkOutputPath, type WriteOptions } from './runner/write-file.js';
export { killAllGroups } from './runner/processes.js';
export { createSession, realFs, RECORDER_FD } from './runner/session.js';
export { exposureOf, secretsUnder, matchesSecret, SECRET_PATTERNS } from './runner/exposure.js';
export { readConfigFile, findConfigIn, findWorkspaceConfigs, type FoundConfig } from './runner/find-configs.js';
export {
  findRecordFiles,
  readRecordFiles,
  recordKeyFor,
  keyFileOf,
  ensureRecordKey,
  recordLineCheck,
  RECORD_KEY_ENV,
  MAX_RECORD_BYTES,
} from './runner/record-files.js';
export { recordCommand, RECORD_PRELOAD, recordPreloadFiles, type RecordOptions } from './runner/record-run.js';
export { phase as timingPhase } from './runner/timing.js';
