'use strict';
// What both of permlearn's preloads (recorder.cjs, which learns, and record.cjs, complain mode) read
// from V8's structured stack: the call sites below a function, whether a permission-model message was
// published by Node itself, and the first frame in a file of the app. Required during preload, before
// any app code runs, so the built-ins it uses are the originals. recorder.cjs is copied into a
// learning session's folder, so permlearn inlines this file there (runner/session.ts); record.cjs
// requires it from beside itself.
//
// callSiteTools(self, limit, callers): `self` is the preload's own file name, or the list of its files (its
// frames are never the app's), `limit` how many frames to capture, `callers` how many frames after the
// first app frame are read (appCallers).
const captureStackTrace = Error.captureStackTrace;
const toStr = String;

// Node code that calls whatever it is handed: a publish called from there was scheduled by the app.
// Frames taken first (callSites), and for the module loader's repeated checks (nearByLoader).
const NEAR = 24;
const LOADER_NEAR = 8;

const SCHEDULERS = /^(processTicksAndRejections|processImmediate|listOnTimeout|processTimers|runMicrotasks|emit|apply|call)$/;

function callSiteTools(self, limit, callers = 0) {
  const own = typeof self === 'string' ? [self] : self;
  const isOwn = (file) => own.includes(file);
  function fileOf(site) {
    try {
      return toStr(site.getFileName() ?? '');
    } catch {
      return '';
    }
  }

  /** The structured stack (V8 CallSites) below `fromFn`, at most `max` frames, without formatting it or
   *  asking the app's prepareStackTrace. */
  function capture(fromFn, max) {
    const holder = {};
    const prepare = Error.prepareStackTrace;
    const before = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = max;
      Error.prepareStackTrace = (_, sites) => sites;
      captureStackTrace(holder, fromFn);
      const sites = holder.stack;
      return Array.isArray(sites) ? sites : [];
    } catch {
      return [];
    } finally {
      try {
        Error.prepareStackTrace = prepare;
        Error.stackTraceLimit = before;
      } catch {
        // a frozen Error: nothing was changed either
      }
    }
  }

  /** Whether a frame is the app's: in a file, neither Node's nor the preload's. */
  function isApp(file) {
    return !isOwn(file) && file !== __filename && (file.startsWith('/') || file.startsWith('file:///'));
  }

  /**
   * The stack below `fromFn`, up to `limit` frames. A capture costs about in proportion to its frames,
   * and what is read from a stack ends at its first frame of the app, which is within the nearest NEAR
   * frames nearly always (a module load's check: 13 to 17 frames down): those are taken first, and the
   * whole stack only when they hold no app frame. Every reading below gives the same answer from
   * either capture, since each stops at the first app frame.
   */
  function callSites(fromFn) {
    const near = capture(fromFn, Math.min(NEAR, limit));
    if (near.length < NEAR || limit <= NEAR) return near;
    // The first app frame, and room after it for the callers that appCallers reads.
    for (let i = 0; i < near.length; i++) if (isApp(fileOf(near[i]))) return i + callers < near.length ? near : capture(fromFn, limit);
    return capture(fromFn, limit);
  }

  /** True when the nearest frames alone show that Node published the check from its module loader
   *  (publishedByNode and byLoader of the whole stack would both be true: the loader's frames come
   *  within a few of the publish); false when they do not show it, either way. */
  function nearByLoader(fromFn) {
    const sites = capture(fromFn, LOADER_NEAR);
    return publishedByNode(sites) && byLoader(sites);
  }

  /**
   * Was this message published by Node? Node's permission checks publish from C++ in the middle of a
   * Node API call: the subscriber is called by Channel.publish, which is called straight from Node's own
   * code (openSync, the module loader ...). A publish by app code, or a subscriber called directly, has an
   * app frame there instead.
   */
  function publishedByNode(sites) {
    const publish = sites[0];
    const caller = sites[1];
    if (!publish || !caller || fileOf(publish) !== 'node:diagnostics_channel') return false;
    try {
      if (publish.getFunctionName() !== 'publish' || SCHEDULERS.test(toStr(caller.getFunctionName() ?? ''))) return false;
      // process.dlopen is native: its check (26 audit mode) publishes with the preload's own dlopen
      // wrapper as the caller, which calls nothing but Node's saved dlopen.
      if (isOwn(fileOf(caller))) return caller.getFunctionName() === 'dlopen';
    } catch {
      return false;
    }
    return fileOf(caller).startsWith('node:');
  }

  /** The first frame in a file of the app (not Node's, not the preload), as `file:line:column`. */
  function appSite(sites) {
    for (const site of sites) {
      const file = fileOf(site);
      if (!isApp(file)) continue;
      try {
        return file + ':' + site.getLineNumber() + ':' + site.getColumnNumber();
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /**
   * The frames above appSite()'s, while they stay in files of the app (as stacks.cjs's callersOf
   * reads stack text), at most `max`: a caller whose try may catch what the call throws.
   */
  function appCallers(sites, max) {
    const out = [];
    let i = 0;
    while (i < sites.length && !isApp(fileOf(sites[i]))) i++;
    for (i++; i < sites.length && out.length < max; i++) {
      const file = fileOf(sites[i]);
      if (!isApp(file)) break;
      try {
        out.push(file + ':' + sites[i].getLineNumber() + ':' + sites[i].getColumnNumber());
      } catch {
        break;
      }
    }
    return out;
  }

  /**
   * Was the check made by Node's module loader (a package scope, a resolution) rather than by an fs
   * call of the app? Some frame between the publish and the first app frame is the loader's.
   */
  function byLoader(sites) {
    for (let i = 1; i < sites.length; i++) {
      const file = fileOf(sites[i]);
      if (file.startsWith('node:internal/modules/')) return true;
      if (isApp(file)) return false;
    }
    return false;
  }

  return { fileOf, callSites, publishedByNode, appSite, appCallers, byLoader, nearByLoader };
}

module.exports = callSiteTools;
