'use strict';
// The public fs API, watched. Before 24 nothing is published for denials the app catches, so a denial
// passing through fs (thrown, rejected or handed to a callback) is reported as 'caught'; on 24+ only a
// denial without a resource is (the channel publishes nothing to name it). An observe run also
// reports each path the API read successfully (`touch`) and each lookup of a missing path (`miss`).
// The wrappers rethrow and pass on exactly what they received.
const fs = require('fs');
const { isObject, read, keepShape } = require('./util.cjs');
const { pathArg, writesWith, argumentOf } = require('./denials.cjs');

// The fs functions that list a folder (sync, callback and fs.promises forms).
const LISTS = /^(readdir|opendir)(Sync)?$/;

/**
 * `only(name)`: which fs functions to wrap. `ctx` (recorder.cjs): config, caughtByChannel, used,
 * usedByResolver, witness, reportError, loadedFiles, requiring.
 */
function watchFs(ctx, only) {
  const { config } = ctx;
  const path = require('path');

  /** The path an fs call names, unless it is one of permlearn's own session files. */
  function appPath(args) {
    const file = pathArg(args[0]);
    if (file === undefined || (config.sessionDir && file.startsWith(config.sessionDir + path.sep))) return undefined;
    return file;
  }

  /** A lookup of a path that does not exist (observe runs): denied, not "not found", once enforced. */
  function missed(name, args) {
    const file = appPath(args);
    // The same key as missKey() in model/recorder-protocol.ts.
    if (file !== undefined) ctx.used('miss\u0000' + file, { t: 'miss', file, api: name });
  }

  /** A folder listed (readdir, opendir), reported once whatever checked it first: a stat and then a
   *  listing of one folder is a single check to the channel and to `touch`, named by the stat. */
  function listed(name, args) {
    if (!LISTS.test(name)) return;
    const file = appPath(args);
    // The same key as listKey() in model/recorder-protocol.ts.
    if (file !== undefined) ctx.used('list\u0000' + file, { t: 'list', file, api: name });
  }

  function touched(name, args, ok) {
    if (!ok || writesWith(name, args)) return;
    const file = appPath(args);
    if (file === undefined || ctx.loadedFiles.has(file)) return;
    // The same key as touchKey() in model/recorder-protocol.ts.
    const key = 'touch\u0000' + file;
    // The resolver realpaths every module before loading it: no stack for those (it is costly), the
    // file whose require() asked is the call site.
    if (name === 'realpathSync' || name === 'realpath') ctx.usedByResolver(key, { t: 'touch', file, api: name }, ctx.requiring[ctx.requiring.length - 1]);
    else ctx.used(key, { t: 'touch', file, api: name });
  }

  const note = (name, args, err) => {
    if (isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') {
      ctx.witness(err);
      // Which fs function was denied (a denied mkdir is a folder the app creates): every report of
      // this error says so, the uncaught one too.
      if (!ctx.deniedCalls.has(err)) ctx.deniedCalls.set(err, name);
      // On 24+ the channel published it already, but with no call site when Node made the check on a
      // later tick (the callback form of realpath lstat-s each folder in a nextTick loop): reported here
      // too, as the fs call the app made.
      if (!ctx.caughtByChannel || !read(err, 'resource') || name === 'realpath') ctx.reportError(err, 'caught', undefined, argumentOf(name, args));
    } else if (config.observe) {
      // fs.exists hands its callback a boolean, not an error.
      touched(name, args, name === 'exists' ? err === true : err === null || err === undefined);
      if (isObject(err) && read(err, 'code') === 'ENOENT') missed(name, args);
    }
  };
  // fs functions call each other (readFileSync opens with openSync): only the app's own call counts.
  let depth = 0;
  const nested = (fn, self, args) => {
    depth++;
    try {
      return fn.apply(self, args);
    } finally {
      depth--;
    }
  };
  const wrapSync = (fn, name) =>
    keepShape(function (...args) {
      const outer = depth === 0;
      if (outer) listed(name, args);
      let result;
      try {
        result = nested(fn, this, args);
      } catch (err) {
        if (outer) note(name, args, err);
        // An observe run (20/22) only looks: a denied existsSync there (a path outside the app root) is
        // reported (and noted as a lookup), then answered as an audit run's would be, "no", so that a search walking up to `/`
        // goes on in the same run instead of stopping at the first folder above the root. Whether the
        // app survives that denial when enforced is decided from its call site (tighten.ts), and the
        // verification run, which has no such answer, checks it.
        if (outer && config.observe && name === 'existsSync' && isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') {
          missed(name, args);
          return false;
        }
        throw err;
      }
      if (outer && config.observe) {
        // existsSync says false, and statSync(p, { throwIfNoEntry: false }) undefined, for a missing path.
        const absent = (name === 'existsSync' && result === false) || (result === undefined && (name === 'statSync' || name === 'lstatSync'));
        touched(name, args, !absent);
        if (absent) missed(name, args);
      }
      return result;
    }, fn);
  // The callback forms check permissions before they start: a denial is thrown at once (20-26), not
  // handed to the callback, so it is noted on the way out as well.
  const wrapCallback = (fn, name) =>
    keepShape(function (...args) {
      const last = args.length - 1;
      const outer = depth === 0;
      const given = typeof args[last] === 'function' ? args.slice(0, last) : args.slice();
      if (outer) listed(name, given);
      if (outer && typeof args[last] === 'function') {
        const cb = args[last];
        args[last] = function (err, ...rest) {
          note(name, given, err);
          return cb.call(this, err, ...rest);
        };
      }
      try {
        return nested(fn, this, args);
      } catch (err) {
        if (outer) note(name, given, err);
        throw err;
      }
    }, fn);
  const wrapPromise = (fn, name) =>
    keepShape(function (...args) {
      if (depth > 0) return fn.apply(this, args);
      listed(name, args);
      const result = nested(fn, this, args);
      if (result && typeof result.then === 'function') {
        return result.then(
          (value) => {
            note(name, args, undefined);
            return value;
          },
          (err) => {
            note(name, args, err);
            throw err;
          },
        );
      }
      return result;
    }, fn);
  const patch = (target, wrap, pick) => {
    for (const name of Object.keys(target)) {
      // A getter (fs.ReadStream, fs.promises ...) loads its module when read: classes and the promises
      // API are not wrapped here, and reading them would load fs streams, watchers and readline into
      // every thread (about 30 M instructions on 22).
      const desc = Object.getOwnPropertyDescriptor(target, name);
      if (!desc || !('value' in desc)) continue;
      const fn = desc.value;
      if (typeof fn !== 'function' || /^[A-Z]/.test(name) || !pick(name) || !only(name)) continue;
      try {
        target[name] = wrap(fn, name);
        // realpathSync.native and realpath.native: the native binding's realpath, wrapped as well.
        if (typeof fn.native === 'function') target[name].native = wrap(fn.native, name);
      } catch {
        // read-only export: leave it
      }
    }
  };
  patch(fs, wrapSync, (name) => name.endsWith('Sync'));
  patch(fs, wrapCallback, (name) => !name.endsWith('Sync') && !/^(create|watch|unwatch|promises)/.test(name));
  if (isObject(fs.promises)) patch(fs.promises, wrapPromise, (name) => name !== 'constants');
}

module.exports = { watchFs, LISTS };
