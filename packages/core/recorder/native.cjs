'use strict';
// Native loaders, seen at the source: process.dlopen (addons) and the WASI constructor. Loaders
// (napi-rs, node-gyp-build, prebuild, WASM runtimes) catch these denials and throw errors of their own,
// or fall back to another build: so the denial is reported as it leaves Node ('caught', with `via`),
// before any loader can rewrite it. The errors are Node's own (witnessed, with their frames checked as
// for any other), so they go through the same authentication as the rest.
const { isObject, read, keepShape } = require('./util.cjs');

const apply = Reflect.apply;

/**
 * process.dlopen (which `Module._extensions['.node']`, and so every require() of a .node file, calls)
 * throws ERR_DLOPEN_DISABLED without publishing anything in enforce mode on every release, and on 24
 * in audit mode too. `ctx` (recorder.cjs): witness, reportAtSource.
 */
function watchDlopen(ctx) {
  const original = process.dlopen;
  if (typeof original !== 'function') return;
  const dlopen = keepShape(function dlopen(...args) {
    try {
      return apply(original, this, args);
    } catch (err) {
      ctx.witness(err);
      // Reported as leaving process.dlopen, so that the learn loop knows a loader saw it first; with the
      // file when require() was loading it (Module.prototype.load saw that file first), whose read the
      // newest builds' resolver checks in enforce mode and Node 24's audit mode does not report.
      if (isObject(err) && read(err, 'code') === 'ERR_DLOPEN_DISABLED') ctx.reportAtSource(err, 'process.dlopen', requiredFile(ctx, args[1]));
      throw err;
    }
  }, original);
  try {
    process.dlopen = dlopen;
  } catch {
    // read-only: addon denials are then judged by their stack
  }
}

/** The addon file process.dlopen was given, when require() is loading that very file; else undefined. */
function requiredFile(ctx, file) {
  return typeof file === 'string' && ctx.loadedFiles && ctx.loadedFiles.has(file) ? file : undefined;
}

/**
 * Before 24 nothing publishes a WASI denial, and a loader that catches it and throws its own error
 * ("could not start the WASM runtime") leaves nothing to read. The constructor is wrapped when the app
 * first requires node:wasi (loading it early would print Node's experimental-feature warning into an
 * app that never uses it); ES module imports that come after see the wrapper too. Returns the watcher
 * the CommonJS hooks call with node:wasi's exports.
 */
function wasiWatcher(ctx) {
  let watched = false;
  return function watchWasi(mod) {
    if (watched || !isObject(mod) || typeof mod.WASI !== 'function') return;
    watched = true;
    const Original = mod.WASI;
    const WASI = class WASI extends Original {
      constructor(...args) {
        try {
          super(...args);
        } catch (err) {
          ctx.witness(err);
          if (isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') ctx.reportAtSource(err, 'WASI');
          throw err;
        }
      }
    };
    try {
      mod.WASI = WASI;
      require('module').syncBuiltinESMExports();
    } catch {
      // read-only export: WASI denials are then judged as before
    }
  };
}

module.exports = { watchDlopen, wasiWatcher };
