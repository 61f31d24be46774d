'use strict';
// node:wasi loaded without require(): an ES module's `import { WASI } from 'node:wasi'`, `import()`, or
// process.getBuiltinModule(). The CommonJS hooks never see those, so the WASI constructor would stay
// unwrapped, and on 20/22 (where nothing publishes a WASI denial) a loader that catches the denial
// would hide it. Loading node:wasi up front is no answer: it prints Node's ExperimentalWarning on every
// line (20 to 26, measured), so every app would print it.
//
// The moment node:wasi first loads is the moment Node emits that warning: node:wasi's own first line
// calls process.emitWarning('WASI is an experimental feature …', 'ExperimentalWarning'), synchronously,
// before its exports exist. The wrapper below lets the warning through unchanged and queues a microtask
// that wraps the constructor on the now-loaded exports and syncs the ES module bindings (named imports
// are live bindings, so an importer that already linked sees the wrapper). The ES module loader awaits
// between loading a builtin and running the modules that import it, and import() resolves later still,
// so the microtask runs first. An app that replaces process.emitWarning before it loads node:wasi
// bypasses this; its WASI denials are then judged as before.
const { keepShape } = require('./util.cjs');

const apply = Reflect.apply;
const NOTICE = 'WASI is an experimental feature and might change at any time';

/** True for Node's own experimental-feature warning about WASI (its type given as a string or in options). */
function isWasiNotice(warning, type) {
  if (warning !== NOTICE) return false;
  if (type === 'ExperimentalWarning') return true;
  return type !== null && typeof type === 'object' && type.type === 'ExperimentalWarning';
}

/** `ctx` (recorder.cjs): watchWasi (native.cjs), called with node:wasi's exports once they exist. */
function watchWasiLoad(ctx) {
  const getBuiltin = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule : undefined;
  const wasiExports = () => (getBuiltin ? apply(getBuiltin, process, ['node:wasi']) : require('wasi'));
  let seen = false;
  const originalEmit = process.emitWarning;
  if (typeof originalEmit === 'function') {
    // The wrapper's name is the original's (keepShape); its own name must not shadow the original.
    const wrapper = keepShape(function emitWarningWrapper(warning, type, code, ctor) {
      const result = apply(originalEmit, this, arguments);
      if (!seen && isWasiNotice(warning, type)) {
        seen = true;
        queueMicrotask(() => {
          try {
            ctx.watchWasi(wasiExports());
          } catch {
            // node:wasi could not be loaded after all: nothing to wrap
          }
        });
      }
      return result;
    }, originalEmit);
    try {
      process.emitWarning = wrapper;
    } catch {
      // read-only: ES module imports of node:wasi stay unwrapped
    }
  }
  if (getBuiltin) {
    const wrapper = keepShape(function getBuiltinModuleWrapper(id) {
      const mod = apply(getBuiltin, this, arguments);
      if (id === 'wasi' || id === 'node:wasi') ctx.watchWasi(mod);
      return mod;
    }, getBuiltin);
    try {
      process.getBuiltinModule = wrapper;
    } catch {
      // read-only: callers of getBuiltinModule('node:wasi') stay unwrapped
    }
  }
}

module.exports = { watchWasiLoad, isWasiNotice };
