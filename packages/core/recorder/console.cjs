'use strict';
// Errors the app catches and prints itself before giving up: every object handed to a console method
// is looked at for denials ('logged'); the app's output is unchanged.
const { isObject } = require('./util.cjs');

/** `reportError(err, source)`: recorder.cjs's. */
function watchConsole(reportError) {
  for (const method of ['error', 'warn', 'log', 'info', 'debug', 'trace']) {
    const original = console[method];
    if (typeof original !== 'function') continue;
    const wrapped = {
      [method](...args) {
        for (const arg of args) if (isObject(arg)) reportError(arg, 'logged');
        return original.apply(this, args);
      },
    }[method];
    console[method] = wrapped;
  }
}

module.exports = { watchConsole };
