// All path logic of the model, in one module: segments and resolving (segments.ts), Node's matching
// rules for grants (match.ts), relative paths and moving a project (relative.ts), and the path
// arithmetic widening needs (widen.ts). Imports only node:path.
export * from './segments.js';
export * from './match.js';
export * from './relative.js';
export * from './widen.js';
