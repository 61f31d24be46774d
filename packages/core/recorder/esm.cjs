'use strict';
// Observe runs: ES modules loaded, through the in-thread module hooks (22+; Node 20 has none, and the
// observe run registers esm-hooks.mjs instead, which writes the same `load` line).
//
// Once hooks are registered, every CommonJS require() passes through them too, which cost a CommonJS
// app's start about 46 M instructions on 22 for nothing. So they are registered at the first sign of
// an ES module in this thread, before it loads: an import() or an ES entry (the `module.import` tracing
// channel publishes both before resolving), or require() of an `.mjs`/`.mts` file (the CommonJS
// loader's watcher, module-hooks.cjs, asks first). Its static imports then pass the hooks, which are
// taken off again once that require() returns, unless an import() or an ES entry came meanwhile.
// Not seen ahead: require() of a `.js` ES module (a "type": "module" package, or a format Node detects)
// before any of those. Its static imports are still read through the fs wrappers, as reads; wrapping
// Module.prototype._compile to see its format cost each CommonJS module more than the hooks did.

/** `ctx` (recorder.cjs): thread, later, loadedFiles; sets loadingFile, which module-hooks.cjs calls. */
function watchEsm(ctx) {
  const Module = require('module');
  if (typeof Module.registerHooks !== 'function') return;
  const dc = require('diagnostics_channel');
  const parents = new Map();
  // Registered for good (an ES entry or an import(): ES modules may load at any time from then on), or
  // for the require() of an ES module under way (`loads` deep), whose whole graph loads inside it.
  let always = false;
  let loads = 0;
  let hooks;
  function start() {
    if (always) return;
    always = true;
    dc.unsubscribe('tracing:module.import:start', start);
    if (hooks === undefined) hooks = register(ctx, Module, parents);
  }
  dc.subscribe('tracing:module.import:start', start);
  // Kept registered after a require() of an ES module, the hooks would make every later CommonJS
  // require() pass them too: about 44 M instructions on 22 for an Express 4 app, whose dependencies
  // (async-function and two others) require() small `.mjs` files at start-up.
  function done() {
    loads--;
    if (loads > 0 || always || hooks === undefined) return;
    const handle = hooks;
    hooks = undefined;
    try {
      if (typeof handle.deregister === 'function') handle.deregister();
    } catch {
      // left registered: the loads are still seen, at the cost above
    }
  }
  ctx.loadingFile = (filename) => {
    if (always || !(filename.endsWith('.mjs') || filename.endsWith('.mts'))) return undefined;
    loads++;
    if (hooks === undefined) hooks = register(ctx, Module, parents);
    return done;
  };
}

/** The hooks, registered; their handle (deregister()). `parents`: the importer of each file URL resolved. */
function register(ctx, Module, parents) {
  const { fileURLToPath } = require('url');
  return Module.registerHooks({
    resolve(specifier, context, next) {
      const result = next(specifier, context);
      // Only files are reported: a built-in (every require('fs') passes here too) is passed on untouched.
      if (
        result &&
        typeof result.url === 'string' &&
        result.url.startsWith('file:') &&
        context &&
        typeof context.parentURL === 'string' &&
        !parents.has(result.url)
      ) {
        parents.set(result.url, context.parentURL);
      }
      return result;
    },
    load(url, context, next) {
      if (typeof url === 'string' && url.startsWith('file:')) {
        try {
          const file = fileURLToPath(url);
          // The hooks see every CommonJS load too: those were reported (first) by the CommonJS loader's watcher.
          if (!ctx.loadedFiles.has(file)) {
            // The loader then reads it through the public fs API, which is not the app's doing (fs.cjs).
            ctx.loadedFiles.add(file);
            const parent = parents.get(url);
            ctx.later({ t: 'load', thread: ctx.thread, file, from: parent && parent.startsWith('file:') ? fileURLToPath(parent) : undefined });
          }
        } catch {
          // not a file path
        }
      }
      return next(url, context);
    },
  });
}

module.exports = { watchEsm };
