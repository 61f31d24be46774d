'use strict';
// Stack text and call sites for the learning recorder: where a denial came from in the app's code.
// V8's structured call sites (call-sites.cjs, shared with record.cjs) are the evidence; stack text is
// only used to name a call site, never to decide that Node made an error.

const FRAME = /(?:\(|\bat )((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/;

/** The first stack frame outside Node's internals and outside `self` (the recorder's own file). */
function siteOf(stack, self) {
  if (typeof stack !== 'string') return undefined;
  const lines = stack.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const m = FRAME.exec(lines[i]);
    if (!m || m[1] === self) continue;
    return m[1] + ':' + m[2] + ':' + m[3];
  }
  return undefined;
}

/** The current stack, deep enough to get past Node's internals and the recorder's wrappers. */
function stackHere() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  return stack;
}

module.exports = { siteOf, stackHere };
