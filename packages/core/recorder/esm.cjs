'use strict';
// Observe runs: ES modules loaded, through the in-thread module hooks (22+; Node 20 has none, and the
// observe run registers esm-hooks.mjs instead, which writes the same `load` line).

/** `ctx` (recorder.cjs): thread, later, loadedFiles. */
function watchEsm(ctx) {
  const Module = require('module');
  if (typeof Module.registerHooks !== 'function') return;
  const { fileURLToPath } = require('url');
  const parents = new Map();
  Module.registerHooks({
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
