// @permlearn/core: the pure model (model/) and the parts that run processes (runner/).
export * from './model/types.js';
export * from './model/node-versions.js';
export * from './model/paths.js';
export * from './model/grants.js';
export * from './model/denials.js';
export * from './model/parse-stderr.js';
export * from './model/parse-events.js';
export * from './model/learn.js';
export * from './model/profile.js';
export * from './model/attribute.js';
export * from './errors.js';
export { learnApp, DEFAULTS, type LearnAppOptions, type LearnAppResult, type Strategy } from './runner/learn-app.js';
export { runApp, portAccepting, type AppSpec, type Readiness, type RunOptions } from './runner/run-app.js';
export { probeNode } from './runner/node-binary.js';
export { writeFileAtomic } from './runner/write-file.js';
export { killAllGroups } from './runner/processes.js';
export { createSession, realFs, RECORDER_FD } from './runner/session.js';
