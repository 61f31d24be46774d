'use strict';
// The record preload on Node 20/22, or 24+ without a mode (record.cjs): the app's needs seen through
// Node's public JS API, without enabling the permission model (or, under an enforced profile, only what
// it denied). Required during preload, before any app code runs.
const fs = require('fs');
const path = require('path');
const wt = require('worker_threads');
const { isNativeError } = require('util').types;

const apply = Reflect.apply;
const resolve = path.resolve;

/**
 * Node 20/22 (or 24+ without a mode): the public fs API, child_process, Worker and process.dlopen
 * are wrapped; each call with a path is the check Node would make. Under an enforced profile only
 * the calls Node denied are kept (a native ERR_ACCESS_DENIED error coming out of the real function).
 */
function watchApi(rec) {
  const { store, folder, enforced, callSites, appSite } = rec;
  const { state, hit, repeat, note, noteLazy } = store;
  const WRITES =
    /^(mkdir|mkdtemp|writeFile|appendFile|rm|rmdir|unlink|rename|copyFile|cp|symlink|link|chmod|lchmod|chown|lchown|utimes|lutimes|truncate|lutimes)(Sync)?$/;
  const TWO_PATHS = /^(rename|copyFile|cp|link|symlink)(Sync)?$/;
  /** The scope of a call by its name and, for open and createWriteStream, its second argument (flags or options). */
  const scopeOf = (name, second) => {
    if (WRITES.test(name)) return 'FileSystemWrite';
    if (name === 'open' || name === 'openSync' || name === 'createWriteStream') {
      const flags = name === 'createWriteStream' ? 'w' : second;
      if (name === 'createWriteStream' && second && typeof second === 'object' && typeof second.flags === 'string')
        return /[wa+]/.test(second.flags) ? 'FileSystemWrite' : 'FileSystemRead';
      if (typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & 3) !== 0) return 'FileSystemWrite';
    }
    return 'FileSystemRead';
  };
  const pathOf = (value) => {
    try {
      if (typeof value === 'string') return value === '' ? undefined : resolve(value);
      if (Buffer.isBuffer(value)) return resolve(value.toString());
      if (value instanceof URL && value.protocol === 'file:') return require('url').fileURLToPath(value);
    } catch {
      // not a path we can name
    }
    return undefined;
  };
  const denied = (err) => isNativeError(err) && err.code === 'ERR_ACCESS_DENIED';
  let depth = 0;
  /** A call's needs, the full way: its path (and a second one) resolved, looked up by key, its stack read when new. */
  const record = (name, first, second, fn, err) => {
    if (enforced && !denied(err)) return;
    const p = pathOf(first);
    if (p === undefined || p === folder || p.startsWith(folder + path.sep)) return;
    const flag = enforced ? { denied: true } : undefined;
    const needs = [[TWO_PATHS.test(name) ? (/^copyFile|^cp/.test(name) ? 'FileSystemRead' : 'FileSystemWrite') : scopeOf(name, second), p]];
    if (TWO_PATHS.test(name)) {
      const q = pathOf(second);
      if (q !== undefined) needs.push(['FileSystemWrite', q]);
    }
    let site;
    let found = false;
    // The path as given, for the repeat path (quick) of the next call: one-path calls only.
    const raw = needs.length === 1 && !TWO_PATHS.test(name) && typeof first === 'string' ? first : undefined;
    for (const [perm, resource] of needs) {
      const seen = repeat(perm, resource, raw);
      if (seen === true) continue; // counted; a repeat needs no stack
      if (!found) {
        site = appSite(callSites(fn));
        found = true;
      }
      note(perm, resource, site, flag, seen === 'sample', raw);
    }
  };
  /**
   * The repeat path of a one-path call (observe mode): the need found by its scope and the path exactly
   * as given, no path resolved, no key built, no stack read (but for a sampled repeat). False when the
   * need is not known under that spelling: record() then takes the full path.
   */
  const quick = (perm, raw, fn) => {
    const seen = hit(perm, raw);
    if (seen === true) return true;
    if (seen !== 'sample') return false;
    const p = pathOf(raw);
    if (p !== undefined && p !== folder && !p.startsWith(folder + path.sep)) note(perm, p, appSite(callSites(fn)), undefined, true);
    return true;
  };
  /**
   * Observe mode's wrapper, on every fs call the app makes: its cost over the bare call is the recorder's
   * on the app's hot path (docs/complain-mode.md, "What it costs"). Written so that V8's optimizing
   * compiler can forward the caller's arguments to `fn` as they are: `args` is only indexed and handed to
   * the one Reflect.apply below, never to another function, so no array of them is made. (Passing `args`
   * on, or a second call of `fn` in another branch, made V8 build the array and call through it: about
   * 250 instructions a call, measured with callgrind on Node 26.) What record() needs is passed by value.
   */
  const observing = (fn, name, scope, byFlags) => {
    const wrapped = {
      [name](...args) {
        if (depth === 0 && !state.inside) {
          const given = args[0];
          if (
            typeof given !== 'string' ||
            given === '' ||
            (scope === undefined && !byFlags) ||
            !quick(scope !== undefined ? scope : scopeOf(name, args[1]), given, wrapped)
          )
            record(name, given, args[1], wrapped);
        }
        depth++;
        try {
          return apply(fn, this, args);
        } finally {
          depth--;
        }
      },
    }[name];
    return wrapped;
  };
  /** Under an enforced profile: the call made, and what Node denied it recorded (its error, thrown, passed or rejected). */
  const enforcing = (fn, name, kind) => {
    const wrapped = {
      [name](...args) {
        if (depth > 0 || state.inside) return apply(fn, this, args);
        if (kind === 'callback' && typeof args[args.length - 1] === 'function') {
          const cb = args[args.length - 1];
          args[args.length - 1] = function (err, ...rest) {
            if (denied(err)) record(name, args[0], args[1], wrapped, err);
            return apply(cb, this, [err, ...rest]);
          };
        }
        depth++;
        let result;
        try {
          result = apply(fn, this, args);
        } catch (err) {
          record(name, args[0], args[1], wrapped, err);
          throw err;
        } finally {
          depth--;
        }
        if (kind === 'promise' && result && typeof result.then === 'function') {
          result.then(undefined, (err) => record(name, args[0], args[1], wrapped, err));
        }
        return result;
      },
    }[name];
    return wrapped;
  };
  const wrap = (target, name, kind) => {
    const fn = target[name];
    if (typeof fn !== 'function' || /^[A-Z]/.test(name)) return;
    // The scope of a one-path call, worked out once: fixed by the name, or by the flags (open, createWriteStream).
    const byFlags = name === 'open' || name === 'openSync' || name === 'createWriteStream';
    const scope = TWO_PATHS.test(name) || byFlags ? undefined : scopeOf(name, undefined);
    const wrapped = enforced ? enforcing(fn, name, kind) : observing(fn, name, scope, byFlags);
    for (const key of Reflect.ownKeys(fn)) {
      if (key === 'length' || key === 'name' || key === 'prototype') continue;
      try {
        Object.defineProperty(wrapped, key, Object.getOwnPropertyDescriptor(fn, key));
      } catch {
        // stays behind; the function still works
      }
    }
    try {
      target[name] = wrapped;
    } catch {
      // read-only export
    }
  };
  const FD_ONLY = /^(f|close|read$|readSync|readv|write$|writeSync|writev|opendir$)|^(watch|unwatch|exists$|promises|constants)/;
  for (const name of Object.keys(fs)) {
    if (FD_ONLY.test(name)) continue;
    wrap(fs, name, name.endsWith('Sync') ? 'sync' : name.startsWith('create') ? 'sync' : 'callback');
  }
  if (fs.promises && typeof fs.promises === 'object') for (const name of Object.keys(fs.promises)) if (name !== 'constants') wrap(fs.promises, name, 'promise');

  // Module files: the CommonJS loader reads them (22+ checks each one); the requiring file is the call site.
  if (!enforced) {
    try {
      const Module = require('module');
      const load = Module.prototype.load;
      Module.prototype.load = function (filename) {
        if (typeof filename === 'string' && !state.inside) {
          const parent = this.parent && typeof this.parent.filename === 'string' ? this.parent.filename : undefined;
          note('FileSystemRead', filename, parent, { via: 'load' });
        }
        return apply(load, this, [filename]);
      };
      if (typeof Module.registerHooks === 'function') {
        const { fileURLToPath } = require('url');
        Module.registerHooks({
          load(url, context, next) {
            if (typeof url === 'string' && url.startsWith('file:')) {
              try {
                note('FileSystemRead', fileURLToPath(url), undefined, { via: 'load' });
              } catch {
                // not a file path
              }
            }
            return next(url, context);
          },
        });
      }
    } catch {
      // no loader to watch
    }
  }

  const cp = require('child_process');
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    const fn = cp[name];
    if (typeof fn !== 'function') continue;
    const wrapped = {
      [name](...args) {
        const site = () => appSite(callSites(wrapped));
        // The resource Node 22+ reports: the command as given, /bin/sh for a shell, node for fork.
        const shell = /^exec(Sync)?$/.test(name) || (args.find((a) => a && typeof a === 'object' && !Array.isArray(a)) || {}).shell;
        const command = name === 'fork' ? process.execPath : shell ? '/bin/sh' : typeof args[0] === 'string' ? args[0] : '';
        if (!enforced) noteLazy('ChildProcess', command, site);
        try {
          return apply(fn, this, args);
        } catch (err) {
          if (enforced && denied(err)) note('ChildProcess', command, site(), { denied: true });
          throw err;
        }
      },
    }[name];
    try {
      cp[name] = wrapped;
    } catch {
      // read-only export
    }
  }
  const Worker = wt.Worker;
  if (typeof Worker === 'function') {
    const Recorded = class Worker extends wt.Worker {
      constructor(...args) {
        if (!enforced) noteLazy('WorkerThreads', '', () => appSite(callSites(Recorded)));
        try {
          super(...args);
        } catch (err) {
          if (enforced && denied(err)) note('WorkerThreads', '', appSite(callSites(Recorded)), { denied: true });
          throw err;
        }
      }
    };
    try {
      wt.Worker = Recorded;
    } catch {
      // read-only export
    }
  }
  const dlopen = process.dlopen;
  if (typeof dlopen === 'function') {
    process.dlopen = function dlopenRecorded(...args) {
      if (!enforced) noteLazy('Addon', '', () => appSite(callSites(dlopenRecorded)));
      try {
        return apply(dlopen, this, args);
      } catch (err) {
        if (enforced && isNativeError(err) && err.code === 'ERR_DLOPEN_DISABLED') note('Addon', '', appSite(callSites(dlopenRecorded)), { denied: true });
        throw err;
      }
    };
  }
  try {
    require('module').syncBuiltinESMExports();
  } catch {
    // older Node: CommonJS users are still covered
  }
}

module.exports = { watchApi };
