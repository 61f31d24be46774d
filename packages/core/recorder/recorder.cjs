'use strict';
// permlearn's recorder. permlearn preloads it with --require into the app it is learning, after
// prepending one line that defines PERMLEARN_CONFIG ({ fd, ownerPid, eventsDir, observe }). It reports
// every permission denial it can see as one JSON line on the extra file descriptor `fd` (fd writes are
// never checked by the permission model), prints nothing, and leaves the app's behaviour alone.
// With `observe` (the one run of the observe strategy, made under a wide read grant) it also reports
// what the app used: every module file (CommonJS and ESM), every path the fs API read successfully,
// each child process started, and the package.json files the CommonJS resolver checks.
/* global PERMLEARN_CONFIG */
(function permlearnRecorder(config) {
  // Only the process permlearn started (and its Workers, which share its pid) report. Children
  // that inherit the --require through fork() have another parent and stay silent.
  // Node children the app starts (through NODE_OPTIONS) report to a file of their own in eventsDir,
  // which the learning flags let them write.
  if (!config) return;
  const fs = require('fs');
  const { isMainThread } = require('worker_threads');
  const isApp = process.ppid === config.ownerPid;
  if (!isApp && !config.eventsDir) return;
  let fd = config.fd;
  if (!isApp) {
    try {
      fd = fs.openSync(require('path').join(config.eventsDir, 'child-' + process.pid + '.ndjson'), 'a');
    } catch {
      return; // no channel: stay silent
    }
  }
  // Node 20 runs module.register() hooks (the observe run's esm-hooks.mjs) on an internal thread that
  // loads preloads like a Worker does: it is not the app's, so the recorder stays out of it.
  if (!isMainThread && /node:internal\/modules\/esm\/worker/.test(String(stackHere()))) return;
  const thread = !isApp ? 'child' : isMainThread ? 'main' : 'worker';
  let open = true;

  // Module loads and probes are many and arrive in bursts: they are queued and written once per tick.
  // Everything else (denials, exit) flushes the queue and is written at once.
  let queue = '';
  let flushPending = false;
  function later(message) {
    if (!open) return;
    queue += JSON.stringify(message) + '\n';
    if (!flushPending) {
      flushPending = true;
      process.nextTick(flush);
    }
  }
  // Repeats of something already reported are only counted, and the counts sent with the next batch.
  let hits = null;
  let lastHit = null;
  function hit(key) {
    if (!open) return;
    if (hits === null) {
      hits = Object.create(null);
      lastHit = Object.create(null);
    }
    hits[key] = (hits[key] || 0) + 1;
    lastHit[key] = Date.now();
    if (!flushPending) {
      flushPending = true;
      process.nextTick(flush);
    }
  }
  function flush() {
    flushPending = false;
    if (hits !== null) {
      queue += JSON.stringify({ t: 'hits', thread, counts: hits, last: lastHit }) + '\n';
      hits = null;
      lastHit = null;
    }
    if (!queue) return;
    const text = queue;
    queue = '';
    write(text);
  }
  function send(message) {
    if (!open) return;
    flush();
    write(JSON.stringify(message) + '\n');
  }
  const writeSync = fs.writeSync; // the original, before the fs watcher below wraps it
  function write(text) {
    let data = Buffer.from(text);
    for (let attempt = 0; attempt < 1000 && data.length > 0; attempt++) {
      try {
        data = data.subarray(writeSync(fd, data));
      } catch (err) {
        if (err && err.code === 'EAGAIN') continue;
        open = false; // nobody is listening (the recorder was loaded outside permlearn)
        return;
      }
    }
  }

  function cwd() {
    try {
      return process.cwd();
    } catch {
      return undefined;
    }
  }

  const FRAME = /(?:\(|\bat )((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/;

  /** The first stack frame outside Node's internals and outside this file. */
  function siteOf(stack) {
    if (typeof stack !== 'string') return undefined;
    const lines = stack.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const m = FRAME.exec(lines[i]);
      if (!m || m[1] === __filename) continue;
      return m[1] + ':' + m[2] + ':' + m[3];
    }
    return undefined;
  }

  /** The current stack, deep enough to get past Node's internals and the wrappers below. */
  function stackHere() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error().stack;
    Error.stackTraceLimit = limit;
    return stack;
  }

  function isObject(value) {
    return value !== null && typeof value === 'object';
  }

  function read(obj, key) {
    try {
      return obj[key];
    } catch {
      return undefined;
    }
  }

  /** The denials an error carries: itself, a nested `errno` (net), a `cause` (fetch), `errors`. */
  function denialsOf(err, depth) {
    if (!isObject(err) || depth > 4) return [];
    const out = [];
    const code = read(err, 'code');
    const message = typeof read(err, 'message') === 'string' ? read(err, 'message') : undefined;
    const errno = read(err, 'errno');
    const permission = read(err, 'permission');
    const syscall = read(err, 'syscall');
    if (code === 'ERR_ACCESS_DENIED') {
      if (typeof permission === 'string') {
        out.push({ permission, resource: String(read(err, 'resource') ?? ''), code, message });
      } else if (syscall === 'getaddrinfo' || /^query/.test(String(syscall))) {
        out.push({ permission: 'Net', resource: String(read(err, 'hostname') ?? ''), code, message });
      } else if (!isObject(errno)) {
        out.push({ permission: '', resource: '', code, message });
      }
    } else if (code === 'ERR_DLOPEN_DISABLED') {
      out.push({ permission: 'Addon', resource: '', code, message });
    }
    if (isObject(errno)) out.push(...denialsOf(errno, depth + 1));
    const cause = read(err, 'cause');
    if (isObject(cause)) out.push(...denialsOf(cause, depth + 1));
    const errors = read(err, 'errors');
    if (Array.isArray(errors)) for (const e of errors) out.push(...denialsOf(e, depth + 1));
    return out;
  }

  // Module files: the loader reads them through the public fs API too, which is not the app's doing.
  const loadedFiles = new Set();
  // The files whose require() calls are under way, innermost last.
  const requiring = [];

  // A module that fails to load has only Node's frames in its (10-frame) stack; remember which file
  // was requiring it, without touching the error the app will see.
  const requirers = new WeakMap();
  try {
    const Module = require('module');
    // Every CommonJS file that loads, so a run with a wide read grant can say what it really read.
    const load = Module.prototype.load;
    // Reported before the module runs: a module whose own code fails (the entry, often) was still read.
    Module.prototype.load = function (filename) {
      if (typeof filename === 'string') {
        loadedFiles.add(filename);
        const parent = this.parent && typeof this.parent.filename === 'string' ? this.parent.filename : undefined;
        later({ t: 'load', thread, file: filename, from: parent });
      }
      return load.call(this, filename);
    };
    const original = Module.prototype.require;
    // The package.json files Node's CommonJS resolver checks for a specifier (22+ checks each one,
    // even where it does not exist): nested node_modules on the way up, and a directory's own.
    const path = require('path');
    const probed = new Set();
    // The observe run notes what Node's own resolution of each require() found, rather than resolving again.
    const frames = [];
    if (config.observe && typeof Module._resolveFilename === 'function') {
      const resolveFilename = Module._resolveFilename;
      Module._resolveFilename = function (request, parent, ...rest) {
        const resolved = resolveFilename.call(this, request, parent, ...rest);
        const top = frames[frames.length - 1];
        if (top && top.resolved === undefined && top.mod === parent && top.id === request) top.resolved = resolved;
        return resolved;
      };
    }
    const reportProbes = (parent, id, known) => {
      if (typeof id !== 'string' || !parent || typeof parent.filename !== 'string') return;
      if (id.startsWith('node:') || (Module.isBuiltin && Module.isBuiltin(id))) return;
      let resolved = known;
      if (typeof resolved !== 'string') {
        try {
          resolved = Module._resolveFilename(id, parent);
        } catch {
          return;
        }
      }
      const files = [];
      if (id.startsWith('.') || path.isAbsolute(id)) {
        const target = path.resolve(path.dirname(parent.filename), id);
        if (path.dirname(resolved) === target) files.push(path.join(target, 'package.json'));
      } else {
        const parts = id.split('/');
        const name = id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
        for (const dir of Module._nodeModulePaths(path.dirname(parent.filename))) {
          const pkg = path.join(dir, name);
          files.push(path.join(pkg, 'package.json'));
          if (resolved.startsWith(pkg + path.sep)) break;
        }
      }
      const fresh = files.filter((f) => !probed.has(f));
      for (const f of fresh) probed.add(f);
      if (fresh.length) later({ t: 'probe', thread, files: fresh, from: parent.filename });
    };
    Module.prototype.require = function require(id) {
      requiring.push(typeof this.filename === 'string' ? this.filename : undefined);
      const frame = config.observe ? { mod: this, id, resolved: undefined } : undefined;
      if (frame) frames.push(frame);
      try {
        const exported = original.call(this, id);
        if (frame) reportProbes(this, id, frame.resolved);
        return exported;
      } catch (err) {
        if (isObject(err) && !requirers.has(err) && typeof this.filename === 'string') requirers.set(err, this.filename);
        throw err;
      } finally {
        requiring.pop();
        if (frame) frames.pop();
      }
    };
  } catch {
    // no CommonJS loader to watch
  }

  function reportError(err, source) {
    const site = siteOf(read(err, 'stack')) || (isObject(err) ? requirers.get(err) : undefined);
    for (const d of denialsOf(err, 0)) {
      send({ t: 'denial', source, thread, cwd: cwd(), site, time: Date.now(), ...d });
    }
  }

  send({ t: 'hello', thread, pid: process.pid, node: process.version, main: process.argv[1] });

  // Errors that escape the app: uncaught exceptions and unhandled rejections.
  process.on('uncaughtExceptionMonitor', (err) => reportError(err, 'uncaught'));

  // Errors the app catches and prints itself before giving up.
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

  // Node 24+ publishes every failed check, caught or not, on these channels.
  const dc = require('diagnostics_channel');
  const names = ['fs', 'child', 'worker', 'wasi', 'inspector', 'addon', 'openssl-store', 'net', 'ffi'];
  // In audit mode nothing is denied, so the app may create a path the moment after it is checked.
  // Whether the path existed at the check tells permlearn to grant a created directory as `dir/*`.
  const audit = process.execArgv.includes('--permission-audit') || /--permission-audit/.test(process.env.NODE_OPTIONS || '');
  let inside = false;
  function existedAtCheck(name, msg) {
    if (!audit || name !== 'fs' || typeof msg.resource !== 'string' || msg.resource === '') return undefined;
    inside = true;
    try {
      return fs.statSync(msg.resource, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return undefined;
    } finally {
      inside = false;
    }
  }
  // Each distinct check is reported once, with the stack of its first caller; repeats are counted.
  const checked = new Set();
  for (const name of names) {
    dc.subscribe('node:permission-model:' + name, (msg) => {
      if (!isObject(msg) || inside) return; // our own stat below publishes too
      const permission = String(msg.permission ?? '');
      const resource = msg.resource === undefined || msg.resource === null ? '' : String(msg.resource);
      const key = 'check\u0000' + permission + '\u0000' + resource + '\u0000' + (cwd() || '');
      if (checked.has(key)) return hit(key);
      checked.add(key);
      const stack = stackHere();
      send({
        t: 'denial',
        source: 'channel',
        thread,
        time: Date.now(),
        cwd: cwd(),
        site: siteOf(stack),
        permission,
        resource,
        code: 'ERR_ACCESS_DENIED',
        existed: existedAtCheck(name, msg),
      });
    });
  }

  // Before 24 nothing is published for denials the app catches, so watch the public fs API instead:
  // a denial passing through it (thrown, rejected or handed to a callback) is reported as 'caught'.
  // An observe run also reports each path the API read successfully. The wrappers rethrow and pass
  // on exactly what they received.
  const caughtByChannel = Number(process.versions.node.split('.')[0]) >= 24;
  if (!caughtByChannel || config.observe) watchFs();
  if (config.observe) watchModules();
  if (!caughtByChannel || config.observe) watchStarts();

  /**
   * Child processes and Workers: the observe run notes each start; before 24 a denial that passes
   * through (and that the app may catch, or wrap in an error of its own) is reported as 'caught'.
   */
  function watchStarts() {
    const noteDenial = (err) => {
      if (!caughtByChannel && isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') reportError(err, 'caught');
    };
    const cp = require('child_process');
    for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
      const fn = cp[name];
      if (typeof fn !== 'function') continue;
      const wrapped = {
        [name](...args) {
          if (config.observe) used('child', { t: 'use', scope: 'child', api: name });
          try {
            return fn.apply(this, args);
          } catch (err) {
            noteDenial(err);
            throw err;
          }
        },
      }[name];
      keepShape(wrapped, fn);
      try {
        cp[name] = wrapped;
      } catch {
        // read-only export: leave it
      }
    }
    const wt = require('worker_threads');
    const Original = wt.Worker;
    if (!caughtByChannel && typeof Original === 'function') watchWorkers(wt, Original, noteDenial);
    try {
      require('module').syncBuiltinESMExports();
    } catch {
      // older Node without it: CommonJS users are still covered
    }
  }

  function watchWorkers(wt, Original, noteDenial) {
    const Worker = class Worker extends Original {
      constructor(...args) {
        try {
          super(...args);
        } catch (err) {
          noteDenial(err);
          throw err;
        }
      }
    };
    try {
      wt.Worker = Worker;
    } catch {
      // read-only export: leave it
    }
  }

  /** Give a wrapper its original's name and own properties, so the app sees the same function shape. */
  function keepShape(wrapper, fn) {
    for (const key of Reflect.ownKeys(fn)) {
      if (key === 'length' || key === 'name' || key === 'prototype') continue;
      try {
        Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(fn, key));
      } catch {
        // a property that cannot be copied stays behind; the function still works
      }
    }
    Object.defineProperty(wrapper, 'name', { value: fn.name });
    return wrapper;
  }

  /** The path an fs call names first, resolved as Node would, or undefined (an fd, nothing). */
  function pathArg(value) {
    try {
      if (typeof value === 'string') return value === '' ? undefined : require('path').resolve(value);
      if (Buffer.isBuffer(value)) return require('path').resolve(value.toString());
      if (value instanceof URL && value.protocol === 'file:') return require('url').fileURLToPath(value);
    } catch {
      // not a path we can name
    }
    return undefined;
  }

  const reported = new Set();
  /** Report something used once, with the call site of its first use (from the stack unless given), and count its repeats. */
  function used(key, message, siteOfUse = () => siteOf(stackHere())) {
    if (reported.has(key)) return hit(key);
    reported.add(key);
    later({ ...message, thread, site: siteOfUse() });
  }

  /** The path an fs call names, unless it is one of permlearn's own session files. */
  function appPath(args) {
    const file = pathArg(args[0]);
    if (file === undefined || (config.sessionDir && file.startsWith(config.sessionDir + require('path').sep))) return undefined;
    return file;
  }

  /** A lookup of a path that does not exist (observe runs): denied, not "not found", once enforced. */
  function missed(name, args) {
    const file = appPath(args);
    if (file !== undefined) used('miss\u0000' + file, { t: 'miss', file, api: name });
  }

  // fs calls that write: once an earlier observe run has granted a write, they succeed too, and their
  // path is not something the app read.
  const WRITES = /^(mkdir|mkdtemp|writeFile|appendFile|write|rm|rmdir|unlink|rename|copyFile|cp|symlink|link|chmod|lchmod|chown|lchown|utimes|lutimes|truncate|ftruncate|fchmod|fchown|futimes|fsync|fdatasync|close)(Sync)?$/;
  function writesWith(name, args) {
    if (WRITES.test(name)) return true;
    if (name !== 'open' && name !== 'openSync') return false;
    const flags = args[1];
    return typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & 3) !== 0;
  }

  function touched(name, args, ok) {
    if (!ok || writesWith(name, args)) return;
    const file = appPath(args);
    if (file === undefined || loadedFiles.has(file)) return;
    // The resolver realpaths every module before loading it: no stack for those (it is costly), the
    // file whose require() asked is the call site.
    const resolving = name === 'realpathSync' || name === 'realpath';
    const from = requiring[requiring.length - 1];
    used('touch\u0000' + file, { t: 'touch', file, api: name }, resolving ? () => from : undefined);
  }

  function watchFs() {
    const note = (name, args, err) => {
      if (isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') {
        if (!caughtByChannel) reportError(err, 'caught');
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
        let result;
        try {
          result = nested(fn, this, args);
        } catch (err) {
          if (outer) note(name, args, err);
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
    const wrapCallback = (fn, name) =>
      keepShape(function (...args) {
        const last = args.length - 1;
        if (depth === 0 && typeof args[last] === 'function') {
          const cb = args[last];
          const given = args.slice(0, last);
          args[last] = function (err, ...rest) {
            note(name, given, err);
            return cb.call(this, err, ...rest);
          };
        }
        return nested(fn, this, args);
      }, fn);
    const wrapPromise = (fn, name) =>
      keepShape(function (...args) {
        if (depth > 0) return fn.apply(this, args);
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
        const fn = target[name];
        if (typeof fn !== 'function' || /^[A-Z]/.test(name) || !pick(name)) continue;
        try {
          target[name] = wrap(fn, name);
        } catch {
          // read-only export: leave it
        }
      }
    };
    patch(fs, wrapSync, (name) => name.endsWith('Sync'));
    patch(fs, wrapCallback, (name) => !name.endsWith('Sync') && !/^(create|watch|unwatch|promises)/.test(name));
    if (isObject(fs.promises)) patch(fs.promises, wrapPromise, (name) => name !== 'constants');
    try {
      require('module').syncBuiltinESMExports();
    } catch {
      // older Node without it: CommonJS users are still covered
    }
  }

  /** Observe runs: child processes started, and ES modules loaded (22+; Node 20 uses esm-hooks.mjs). */
  function watchModules() {
    const Module = require('module');
    if (typeof Module.registerHooks === 'function') {
      const { fileURLToPath } = require('url');
      const parents = new Map();
      Module.registerHooks({
        resolve(specifier, context, next) {
          const result = next(specifier, context);
          if (result && typeof result.url === 'string' && context && typeof context.parentURL === 'string' && !parents.has(result.url)) {
            parents.set(result.url, context.parentURL);
          }
          return result;
        },
        load(url, context, next) {
          if (typeof url === 'string' && url.startsWith('file:')) {
            try {
              const parent = parents.get(url);
              later({ t: 'load', thread, file: fileURLToPath(url), from: parent && parent.startsWith('file:') ? fileURLToPath(parent) : undefined });
            } catch {
              // not a file path
            }
          }
          return next(url, context);
        },
      });
    }
    try {
      Module.syncBuiltinESMExports();
    } catch {
      // older Node without it
    }
  }

  // Drop-plan verification: once permlearn sees the app ready it writes the planned drops to
  // dropFile; the recorder applies them in the app, as the app's own code would after start-up.
  if (config.dropFile && isApp && isMainThread) {
    const timer = setInterval(() => {
      if (!fs.existsSync(config.dropFile)) return;
      clearInterval(timer);
      let applied = 0;
      try {
        const drops = JSON.parse(fs.readFileSync(config.dropFile, 'utf8'));
        for (const d of drops) {
          if (d.reference === undefined) process.permission.drop(d.scope);
          else process.permission.drop(d.scope, d.reference);
          applied++;
        }
        // The file's own grant goes too: nothing of permlearn's is left behind in the app.
        process.permission.drop('fs.read', config.dropFile);
      } catch (err) {
        send({ t: 'dropped', time: Date.now(), applied, error: String(err && err.message) });
        return;
      }
      send({ t: 'dropped', time: Date.now(), applied });
    }, 20);
    timer.unref();
  }

  if (isMainThread) process.on('exit', (code) => send({ t: 'exit', code }));
})(typeof PERMLEARN_CONFIG === 'undefined' ? undefined : PERMLEARN_CONFIG);
