'use strict';
// Evidence for the learning recorder: whether Node itself produced a denial. A denial is only reported
// when Node produced it: a check Node published (24+), an error seen coming out of a Node API the
// recorder wraps, or (where neither can be watched) a native error whose frames start in Node's own
// code; and never for something process.permission.has() says is granted. See docs/security.md.
const { isObject, read } = require('./util.cjs');
const { denialsOf } = require('./denials.cjs');

// Saved before any app code can replace them.
const { isNativeError } = require('util').types;
const { resolve: resolvePath } = require('path');
const apply = Reflect.apply;
const setHas = Set.prototype.has;
const weakHas = WeakSet.prototype.has;
const weakAdd = WeakSet.prototype.add;
const nodePrepareStackTrace = Error.prepareStackTrace; // Node's own formatter (20-26 expose it)

const SCOPES = {
  FileSystemRead: 'fs.read',
  FileSystemWrite: 'fs.write',
  ChildProcess: 'child',
  WorkerThreads: 'worker',
  WASI: 'wasi',
  Addon: 'addon',
  Net: 'net',
};

/**
 * The evidence checks of one thread. `ctx`: the recorder's shared state (recorder.cjs): `self`, the
 * recorder's file; `fileOf`, from call-sites.cjs; `permissionApi`/`permissionHas`, the original has();
 * `caughtByChannel`; and the flags `asking` and `confirming`.
 */
function createEvidence(ctx) {
  // The checks the recorder saw Node itself publish ("permission\0resource").
  const publishedChecks = new Set();
  // Errors seen coming out of a Node API the recorder wraps (fs, child_process, Worker, process.dlopen).
  const witnessed = new WeakSet();
  function witness(err) {
    // Node's own errors start in Node's code; one the app threw from a getter inside the call does not.
    if (isObject(err) && isNativeError(err) && madeInNode(err)) apply(weakAdd, witnessed, [err]);
  }

  /**
   * Was this error made in Node's own code? Its stack text proves nothing (anyone can assign it, or
   * merge it in from parsed input), so the recorder asks V8 for the error's frames instead: they are
   * handed to Error.prepareStackTrace when the stack is first read, and the recorder reads it first,
   * passing the frames on to the formatter the app would have had (the text comes out the same). An
   * error whose stack was read or set before has no frames to show, and is not evidence.
   */
  function madeInNode(err) {
    let sites;
    const previous = Error.prepareStackTrace;
    const format = typeof previous === 'function' ? previous : nodePrepareStackTrace;
    try {
      Error.prepareStackTrace = function (error, frames) {
        if (error === err) sites = frames;
        return apply(format, this, [error, frames]);
      };
      read(err, 'stack');
    } catch {
      return false;
    } finally {
      try {
        Error.prepareStackTrace = previous;
      } catch {
        // a frozen Error: nothing was changed
      }
    }
    if (!Array.isArray(sites)) return false;
    // The recorder's own wrappers (process.dlopen's) may sit below Node's frame.
    const first = sites.find((site) => ctx.fileOf(site) !== ctx.self);
    return first !== undefined && ctx.fileOf(first).startsWith('node:');
  }

  /**
   * Did Node produce this error's denial? Seen coming out of a Node API; or, on 24+, matching a check
   * Node published (every denied check publishes first, except addons); or, where neither can be watched
   * (20/22: ES module loads, inspector, WASI; a denial with no permission), a native error whose frames
   * start in Node's code. A plain object is never evidence, nor an Error made by the app.
   */
  function genuine(err, permission, resource) {
    if (apply(weakHas, witnessed, [err])) return true;
    if (!isNativeError(err)) return false;
    if (ctx.caughtByChannel && permission !== '' && permission !== 'Addon') {
      return apply(setHas, publishedChecks, [permission + '\u0000' + resource]);
    }
    return madeInNode(err);
  }

  /** process.permission.has() (the original) says the run grants it: then it was not denied. */
  function granted(permission, resource) {
    const scope = SCOPES[permission];
    if (!ctx.permissionHas || scope === undefined || ctx.confirming) return false;
    if ((scope === 'fs.read' || scope === 'fs.write') && resource === '') return false;
    if (scope === 'net') return false; // has('net', host) is not what the check compares
    ctx.confirming = true; // has() itself publishes a check when it answers no
    try {
      const ref = scope === 'fs.read' || scope === 'fs.write' ? resolvePath(resource) : undefined;
      return (ref === undefined ? apply(ctx.permissionHas, ctx.permissionApi, [scope]) : apply(ctx.permissionHas, ctx.permissionApi, [scope, ref])) === true;
    } catch {
      return false;
    } finally {
      ctx.confirming = false;
    }
  }

  const judge = { genuine: (e, found) => genuine(e, found.permission, found.resource), granted: (found) => granted(found.permission, found.resource) };
  /** The denials an error carries that Node produced and the run does not grant. */
  function denialsIn(err, fill) {
    return denialsOf(err, 0, fill, judge);
  }

  return { publishedChecks, witness, madeInNode, genuine, granted, denialsIn };
}

/**
 * Marks the checks the app's own process.permission.has() makes (`ctx.asking` while it runs): a check
 * Node publishes then is the app asking whether it may, which it answers itself, not an access.
 */
function watchHas(ctx) {
  const { permissionApi, permissionHas } = ctx;
  if (!permissionHas) return;
  try {
    permissionApi.has = function has(...args) {
      const was = ctx.asking;
      ctx.asking = true;
      try {
        return apply(permissionHas, this, args);
      } finally {
        ctx.asking = was;
      }
    };
  } catch {
    // a frozen process.permission: its has() checks look like any other
  }
}

module.exports = { createEvidence, watchHas, SCOPES };
