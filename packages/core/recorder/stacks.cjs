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

/** How many frames above a call site are reported: enough for a helper or two between a read and the caller's try. */
const CALLERS = 4;

/**
 * The frames above the call site siteOf() names, while they stay in files of the app (a frame of
 * Node's or a native one ends them: what is above it is not a plain caller), as `file:line:col`.
 * Evidence only that a caller may catch what the call throws: it can make a grant a candidate for
 * tightening, never add one.
 */
function callersOf(stack, self) {
  if (typeof stack !== 'string') return [];
  const lines = stack.split('\n');
  let i = 1;
  while (i < lines.length) {
    const m = FRAME.exec(lines[i]);
    i++;
    if (m && m[1] !== self) break;
  }
  const out = [];
  for (; i < lines.length && out.length < CALLERS; i++) {
    const m = FRAME.exec(lines[i]);
    if (!m || m[1] === self) break;
    out.push(m[1] + ':' + m[2] + ':' + m[3]);
  }
  return out;
}

/** The current stack, deep enough to get past Node's internals and the recorder's wrappers. */
function stackHere() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  return stack;
}

module.exports = { siteOf, callersOf, stackHere, CALLERS };
