'use strict';
// permlearn's recorder. permlearn preloads it with --require into the app it is learning, after
// prepending one line that defines PERMLEARN_CONFIG ({ fd, ownerPid, eventsDir, observe, keyFd }). It
// reports every permission denial it can see as one JSON line on the extra file descriptor `fd` (fd
// writes are never checked by the permission model), prints nothing, and leaves the app's behaviour alone.
// With `observe` (the one run of the observe strategy, made under a wide read grant) it also reports
// what the app used: every module file (CommonJS and ESM), every path the fs API read successfully,
// each child process started, and the package.json files the CommonJS resolver checks.
//
// Evidence: every line is authenticated with a per-run secret that app code never sees: in the app, a
// token read from the inherited fd `keyFd` (closed before the app runs) that prefixes each line on the
// channel only permlearn reads; in Node children and under `permlearn run --`, an HMAC under a key taken
// out of the environment before the app runs; Workers take theirs out of the workerData the recorder's
// Worker wrapper added. permlearn drops every line that does not authenticate. A denial is only reported when Node produced it: a check published by Node itself,
// an error seen coming out of a Node API, or (where neither can be watched) a native error whose stack
// starts in Node's own code; and never for something process.permission.has() says is granted.
// See docs/security.md.
/* global PERMLEARN_CONFIG, PERMLEARN_CALL_SITES */
(function permlearnRecorder(config) {
  // Only the process permlearn started (and its Workers, which share its pid) report. Children
  // that inherit the --require through fork() have another parent and stay silent.
  // Node children the app starts (through NODE_OPTIONS) report to a file of their own in eventsDir,
  // which the learning flags let them write.
  if (!config) return;
  const fs = require('fs');
  const wt = require('worker_threads');
  const { isMainThread } = wt;
  // What the denial path uses, saved before any app code can replace it.
  const { isNativeError } = require('util').types;
  const stringify = JSON.stringify;
  const toStr = String;
  const bufferFrom = Buffer.from;
  const apply = Reflect.apply;
  const nodePrepareStackTrace = Error.prepareStackTrace; // Node's own formatter (20-26 expose it)
  const setHas = Set.prototype.has;
  const setAdd = Set.prototype.add;
  const weakHas = WeakSet.prototype.has;
  const weakAdd = WeakSet.prototype.add;
  // Reading V8's call sites, shared with record.cjs (inlined in a session's copy: runner/session.ts).
  const { fileOf, callSites, publishedByNode, appSite } = (typeof PERMLEARN_CALL_SITES === 'function' ? PERMLEARN_CALL_SITES : require('./call-sites.cjs'))(__filename, 40);
  const permissionApi = process.permission;
  const permissionHas = permissionApi && typeof permissionApi.has === 'function' ? permissionApi.has : undefined;
  // While the app's own process.permission.has() runs: a check Node publishes then is the app asking
  // whether it may, which it answers itself (has() never throws), not an access.
  let asking = false;
  if (permissionHas) {
    try {
      permissionApi.has = function has(...args) {
        const was = asking;
        asking = true;
        try {
          return apply(permissionHas, this, args);
        } finally {
          asking = was;
        }
      };
    } catch {
      // a frozen process.permission: its has() checks look like any other
    }
  }
  const ENV_KEY = 'PERMLEARN_RECORDER_KEY';
  const DATA_KEY = '\u0000permlearn-recorder';

  const isApp = process.ppid === config.ownerPid;
  // The key, however it reached this thread; it is taken out of reach of the app in every case.
  const fromEnv = process.env[ENV_KEY];
  if (fromEnv !== undefined) delete process.env[ENV_KEY];
  // { token: prefixes this thread's lines on the app's own channel, or key: signs them (HMAC) in a
  // Node child's report file; child: the key given on to Node children }
  let keys;
  if (!isMainThread) {
    const data = wt.workerData;
    if (data !== null && typeof data === 'object' && Object.prototype.hasOwnProperty.call(data, DATA_KEY)) {
      keys = data[DATA_KEY];
      try {
        wt.workerData = data.data;
        require('module').syncBuiltinESMExports();
      } catch {
        // the app's workerData stays wrapped; it still works
      }
    }
  } else if (fromEnv !== undefined) {
    keys = { key: fromEnv, child: fromEnv };
  } else if (isApp && typeof config.keyFd === 'number') {
    keys = readKeys(config.keyFd);
  }
  if (!keys || typeof keys.child !== 'string' || (typeof keys.token !== 'string' && typeof keys.key !== 'string')) return; // no key: not permlearn's run, stay silent
  // Lines on the app's own channel (a pipe only permlearn reads) carry the secret token itself; lines in
  // a child's report file, which others may read, carry an HMAC under the key instead.
  const createHmac = typeof keys.key === 'string' ? require('crypto').createHmac : undefined;
  if (!isApp && !config.eventsDir) return;

  /** The token and child key permlearn wrote into `keyFd`, read to its end; the fd is closed either way. */
  function readKeys(keyFd) {
    let text = '';
    try {
      const buf = Buffer.alloc(256);
      const wait = new Int32Array(new SharedArrayBuffer(4));
      for (let tries = 0; tries < 2000 && text.length < 256; ) {
        let n;
        try {
          n = fs.readSync(keyFd, buf, 0, buf.length, null);
        } catch (err) {
          if (err && err.code === 'EAGAIN') {
            tries++;
            Atomics.wait(wait, 0, 0, 1);
            continue;
          }
          throw err;
        }
        if (n === 0) break;
        text += buf.toString('utf8', 0, n);
      }
    } catch {
      text = '';
    }
    try {
      fs.closeSync(keyFd);
    } catch {
      // not open: not started by permlearn
    }
    const m = /^([A-Za-z0-9_-]{32,128}) ([A-Za-z0-9_-]{32,128})$/.exec(text);
    return m ? { token: m[1], child: m[2] } : undefined;
  }

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
  // The Node 20 hooks thread (observe runs) writes module loads to the same fd: the --import file that
  // registers it takes the key from here, before any app code runs, and removes it.
  if (isMainThread && typeof config.esmRegister === 'string' && process.execArgv.includes(config.esmRegister)) {
    Object.defineProperty(globalThis, '__permlearnEsmKey', { value: keys.token, configurable: true, enumerable: false, writable: false });
  }
  const thread = !isApp ? 'child' : isMainThread ? 'main' : 'worker';
  let open = true;

  // Module loads and probes are many and arrive in bursts: they are queued and written once per tick.
  // Everything else (denials, exit) flushes the queue and is written at once.
  let queue = '';
  let flushPending = false;
  function later(message) {
    if (!open) return;
    queue += signed(message);
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
      queue += signed({ t: 'hits', thread, counts: hits, last: lastHit });
      hits = null;
      lastHit = null;
    }
    if (!queue) return;
    const text = queue;
    queue = '';
    write(text);
  }
  /** One line: the token (or the HMAC of the JSON text, 22 characters of base64url), a space, the JSON text. */
  function signed(message) {
    const body = stringify(message);
    const tag = createHmac === undefined ? keys.token : createHmac('sha256', keys.key).update(body).digest('base64url').slice(0, 22);
    return tag + ' ' + body + '\n';
  }
  function send(message) {
    if (!open) return;
    flush();
    write(signed(message));
  }
  const writeSync = fs.writeSync; // the original, before the fs watcher below wraps it
  function write(text) {
    let data = apply(bufferFrom, Buffer, [text]);
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

  // Evidence checks. Node 24+ publishes every failed check on a diagnostics channel; the checks the
  // recorder saw Node itself publish are kept here ("permission\0resource").
  const caughtByChannel = Number(process.versions.node.split('.')[0]) >= 24;
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
    const first = sites.find((site) => fileOf(site) !== __filename);
    return first !== undefined && fileOf(first).startsWith('node:');
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
    if (caughtByChannel && permission !== '' && permission !== 'Addon') {
      return apply(setHas, publishedChecks, [permission + '\u0000' + resource]);
    }
    return madeInNode(err);
  }

  const SCOPES = { FileSystemRead: 'fs.read', FileSystemWrite: 'fs.write', ChildProcess: 'child', WorkerThreads: 'worker', WASI: 'wasi', Addon: 'addon', Net: 'net' };
  let confirming = false;
  /** process.permission.has() (the original) says the run grants it: then it was not denied. */
  function granted(permission, resource) {
    const scope = SCOPES[permission];
    if (!permissionHas || scope === undefined || confirming) return false;
    if ((scope === 'fs.read' || scope === 'fs.write') && resource === '') return false;
    if (scope === 'net') return false; // has('net', host) is not what the check compares
    confirming = true; // has() itself publishes a check when it answers no
    try {
      const ref = scope === 'fs.read' || scope === 'fs.write' ? require('path').resolve(resource) : undefined;
      return (ref === undefined ? apply(permissionHas, permissionApi, [scope]) : apply(permissionHas, permissionApi, [scope, ref])) === true;
    } catch {
      return false;
    } finally {
      confirming = false;
    }
  }

  /**
   * The denials an error carries: itself, a nested `errno` (net), a `cause` (fetch), `errors`; only those
   * Node produced. `fill`: the path argument of the call the error came out of (see argumentOf), for a
   * file-system denial Node threw without naming its resource.
   */
  function denialsOf(err, depth, fill) {
    if (!isObject(err) || depth > 4) return [];
    const out = [];
    const code = read(err, 'code');
    const message = typeof read(err, 'message') === 'string' ? read(err, 'message') : undefined;
    const errno = read(err, 'errno');
    const permission = read(err, 'permission');
    const syscall = read(err, 'syscall');
    let found;
    if (code === 'ERR_ACCESS_DENIED') {
      if (typeof permission === 'string') {
        found = { permission, resource: toStr(read(err, 'resource') ?? ''), code, message };
      } else if (syscall === 'getaddrinfo' || /^query/.test(toStr(syscall))) {
        found = { permission: 'Net', resource: toStr(read(err, 'hostname') ?? ''), code, message };
      } else if (!isObject(errno)) {
        found = { permission: '', resource: '', code, message };
      }
    } else if (code === 'ERR_DLOPEN_DISABLED') {
      found = { permission: 'Addon', resource: '', code, message };
    }
    if (found && genuine(err, found.permission, found.resource)) {
      if (depth === 0 && fill !== undefined) found = withArgument(found, fill);
      if (!granted(found.permission, found.resource)) out.push(found);
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
        if (id === 'wasi' || id === 'node:wasi') watchWasi(exported);
        if (frame) reportProbes(this, id, frame.resolved);
        return exported;
      } catch (err) {
        if (isObject(err) && !requirers.has(err) && typeof this.filename === 'string') requirers.set(err, this.filename);
        // A denial inside require() (the resolver's realpath of the file, on the newest builds): seen
        // here, at the source, before a loader that catches it (napi-rs) turns it into its own error.
        if (isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') {
          witness(err);
          reportAtSource(err, 'require');
        }
        throw err;
      } finally {
        requiring.pop();
        if (frame) frames.pop();
      }
    };
  } catch {
    // no CommonJS loader to watch
  }

  /**
   * A file-system denial Node threw without a resource (none measured on 20-26 through the public fs
   * API, but a native realpath has been seen to): the path argument of the call it came out of, which
   * the wrapper knows, marked `resourceFrom: 'argument'`. Only with the message of Node's file-system
   * check ("Access to this API has been restricted"): never for an API no flag can lift ("fsync API is
   * disabled ...", "process.binding"), nor for a call that names no path (an fd).
   */
  function withArgument(found, fill) {
    if (found.code !== 'ERR_ACCESS_DENIED' || found.resource !== '') return found;
    if (found.permission !== '' && found.permission !== 'FileSystemRead' && found.permission !== 'FileSystemWrite') return found;
    if (typeof found.message !== 'string' || !/^Access to this API has been restricted/.test(found.message)) return found;
    return { ...found, permission: found.permission || fill.permission, resource: fill.resource, resourceFrom: 'argument' };
  }

  /** What a wrapped fs call names: its path argument, read or written (undefined for an fd, nothing). */
  function argumentOf(name, args) {
    const file = pathArg(args[0]);
    return file === undefined ? undefined : { permission: writesWith(name, args) ? 'FileSystemWrite' : 'FileSystemRead', resource: file };
  }

  /**
   * The permission flags this Node child was really started with: those in its own execArgv and those in
   * NODE_OPTIONS (which it read at start-up), in order. A child whose parent rebuilt its execArgv may hold
   * fewer grants than the app; permlearn compares the two when the child is denied something the app was
   * granted. Read once, before app code runs; only ever used to explain a denial, never to grant.
   */
  const childFlags = thread === 'child' ? permissionWords() : undefined;
  function permissionWords() {
    const isPermission = (w) => /^--(permission|permission-audit|experimental-permission|allow-[a-z-]+)(=|$)/.test(w);
    const words = [];
    for (const w of process.execArgv) if (typeof w === 'string' && isPermission(w)) words.push(w);
    const fromEnv = [];
    // NODE_OPTIONS words: whitespace-separated, a double-quoted word may hold spaces (as Node reads it).
    const text = typeof process.env.NODE_OPTIONS === 'string' ? process.env.NODE_OPTIONS : '';
    const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
    let m;
    while ((m = re.exec(text)) !== null) {
      const w = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2].replace(/"((?:[^"\\]|\\.)*)"/g, (_, q) => q.replace(/\\(.)/g, '$1'));
      if (isPermission(w)) fromEnv.push(w);
    }
    return { execArgv: words, nodeOptions: fromEnv };
  }

  function reportError(err, source, siteHere, fill, via) {
    // Judged before anything reads the stack (see madeInNode).
    const denials = denialsOf(err, 0, fill);
    if (denials.length === 0) return;
    const site = siteOf(read(err, 'stack')) || (isObject(err) ? requirers.get(err) : undefined) || (siteHere ? siteHere() : undefined);
    for (const d of denials) {
      send({ t: 'denial', source, thread, cwd: cwd(), site, time: Date.now(), ...d, ...(via ? { via } : {}), ...(childFlags ? { given: childFlags } : {}) });
    }
  }

  /**
   * A denial thrown by a Node API the recorder wraps, reported as it leaves Node ('caught': the app may
   * still catch it, or rewrite it). The error's own 10 frames may not reach past Node's loader and the
   * recorder's wrappers, so the call site falls back to the stack of this call.
   */
  const atSource = new WeakSet();
  function reportAtSource(err, via) {
    if (apply(weakHas, atSource, [err])) return; // nested require()s pass the same error on
    apply(weakAdd, atSource, [err]);
    reportError(err, 'caught', () => siteOf(stackHere()), undefined, via);
  }

  send({ t: 'hello', thread, pid: process.pid, node: process.version, main: process.argv[1], ...(childFlags ? { given: childFlags } : {}) });

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
    const subscriber = (msg) => {
      if (!isObject(msg) || inside || confirming) return; // our own stat and has() publish too
      const permission = toStr(msg.permission ?? '');
      const resource = msg.resource === undefined || msg.resource === null ? '' : toStr(msg.resource);
      const key = (asking ? 'has\u0000' : 'check\u0000') + permission + '\u0000' + resource + '\u0000' + (cwd() || '');
      if (apply(setHas, checked, [key])) return hit(key);
      const sites = callSites(subscriber);
      if (!publishedByNode(sites)) return; // not Node's check: no evidence
      apply(setAdd, checked, [key]);
      apply(setAdd, publishedChecks, [permission + '\u0000' + resource]);
      if (!audit && granted(permission, resource)) return;
      send({
        t: 'denial',
        source: 'channel',
        thread,
        time: Date.now(),
        cwd: cwd(),
        site: appSite(sites),
        permission,
        resource,
        code: 'ERR_ACCESS_DENIED',
        existed: existedAtCheck(name, msg),
        ...(childFlags ? { given: childFlags } : {}),
        ...(asking ? { asked: 'has' } : {}),
      });
    };
    dc.subscribe('node:permission-model:' + name, subscriber);
  }

  // Before 24 nothing is published for denials the app catches, so watch the public fs API instead:
  // a denial passing through it (thrown, rejected or handed to a callback) is reported as 'caught'.
  // An observe run also reports each path the API read successfully. The wrappers rethrow and pass
  // on exactly what they received.
  if (!caughtByChannel || config.observe) watchFs(() => true);
  // On 24+ the channel sees the rest; a denial without a resource publishes nothing to name it, so
  // the realpath family (where one has been seen) is still watched, for that case only.
  else watchFs((name) => /^realpath(Sync)?$/.test(name));
  if (config.observe) watchModules();
  watchStarts();
  watchDlopen();

  /**
   * Child processes and Workers: every start passes the child key on (in the environment of a child
   * process, in the workerData of a Worker); the observe run notes each start; a denial that passes
   * through is witnessed, and before 24 (where the app may catch it, or wrap it in an error of its
   * own) reported as 'caught'.
   */
  function watchStarts() {
    const noteDenial = (err) => {
      witness(err);
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
            return fn.apply(this, withChildKey(args, name));
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
    const Original = wt.Worker;
    if (typeof Original === 'function') watchWorkers(Original, noteDenial);
    try {
      require('module').syncBuiltinESMExports();
    } catch {
      // older Node without it: CommonJS users are still covered
    }
  }

  /**
   * The arguments of a child_process call with the child key added to the environment the child gets
   * (the options object is copied, never changed). Every function takes (file, [args], [options], ...).
   */
  function withChildKey(args, name) {
    try {
      const at = childOptionsAt(args, name);
      const given = args[at];
      const out = args.slice();
      if (isObject(given) && !Array.isArray(given)) {
        const env = isObject(given.env) ? given.env : process.env;
        out[at] = { ...given, env: withPreload({ ...env, [ENV_KEY]: keys.child }) };
      } else if (given === undefined || given === null || typeof given === 'function') {
        const options = { env: withPreload({ ...process.env, [ENV_KEY]: keys.child }) };
        if (given === undefined || given === null) out[at] = options;
        else out.splice(at, 0, options);
      }
      return out;
    } catch {
      return args; // options we cannot read: the child just reports nothing
    }
  }

  /**
   * A child's environment with this recorder among NODE_OPTIONS' preloads. permlearn puts it there for
   * the app, and a child that inherits the environment keeps it; a child given an environment of its
   * own (`env: { PATH }`) would run without a recorder, and its denials (22+ passes the permission
   * flags on, the recorder's read grant included) would never reach permlearn.
   */
  function withPreload(env) {
    let current = typeof env.NODE_OPTIONS === 'string' ? env.NODE_OPTIONS : '';
    // In audit mode 24 passes nothing on to a spawned child (26 passes --permission-audit): the child
    // would run unwatched and its needs would wait for the enforce runs. It is audited like the app.
    if (audit && !/--permission-audit/.test(current)) current = ('--permission-audit ' + current).trim();
    if (!current.includes(__filename)) {
      const quoted = /[\s"\\]/.test(__filename) ? '"' + __filename.replace(/[\\"]/g, (c) => '\\' + c) + '"' : __filename;
      current = ('--require ' + quoted + ' ' + current).trim();
    }
    return current === env.NODE_OPTIONS ? env : { ...env, NODE_OPTIONS: current };
  }

  /**
   * Where a child_process call's options object sits. After an args array, or after an empty args slot
   * (`fork(script, undefined, { execArgv })`, as worker pools call it: Node skips a null args and
   * reads the options that follow, so putting the key in that slot would hide the app's own options,
   * its execArgv and env included). exec and execSync take no args array.
   */
  function childOptionsAt(args, name) {
    if (Array.isArray(args[1])) return 2;
    if (name !== 'exec' && name !== 'execSync' && (args[1] === undefined || args[1] === null) && args.length > 2 && isObject(args[2])) return 2;
    return 1;
  }

  function watchWorkers(Original, noteDenial) {
    // The Worker's recorder takes the keys out of its workerData and gives the app its own back.
    const Worker = class Worker extends Original {
      constructor(filename, options, ...rest) {
        let given = options;
        try {
          const opts = isObject(options) ? options : {};
          given = { ...opts, workerData: { [DATA_KEY]: { token: keys.token, key: keys.key, child: keys.child }, data: opts.workerData } };
        } catch {
          // options we cannot read: the Worker reports nothing
        }
        try {
          super(filename, given, ...rest);
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

  /**
   * Addons, seen at the source. process.dlopen (which `Module._extensions['.node']`, and so every
   * require() of a .node file, calls) throws ERR_DLOPEN_DISABLED without publishing anything in enforce
   * mode on every release, and on 24 in audit mode too. Loaders (napi-rs, node-gyp-build, prebuild)
   * catch it and throw an error of their own, or fall back to a WASM build: so the denial is reported
   * here, as it leaves Node, before any loader can rewrite it. The error is Node's own (witnessed, with
   * its frames checked as for any other), so it goes through the same authentication as the rest.
   */
  function watchDlopen() {
    const original = process.dlopen;
    if (typeof original !== 'function') return;
    const dlopen = keepShape(
      function dlopen(...args) {
        try {
          return apply(original, this, args);
        } catch (err) {
          witness(err);
          // Reported as leaving process.dlopen, so that the learn loop knows a loader saw it first.
          if (isObject(err) && read(err, 'code') === 'ERR_DLOPEN_DISABLED') reportAtSource(err, 'process.dlopen');
          throw err;
        }
      },
      original,
    );
    try {
      process.dlopen = dlopen;
    } catch {
      // read-only: addon denials are then judged by their stack
    }
  }

  /**
   * The WASI constructor, seen at the source. Before 24 nothing publishes its denial, and a loader that
   * catches it and throws its own error ("could not start the WASM runtime") leaves nothing to read;
   * so the denial is reported as it leaves the constructor ('caught', via WASI), in every thread and
   * child. Wrapped when the app first requires node:wasi (loading it early would print Node's
   * experimental-feature warning into an app that never uses it); ES module imports that come after
   * see the wrapper too. The error is Node's own, witnessed and checked like any other.
   */
  let wasiWatched = false;
  function watchWasi(mod) {
    if (wasiWatched || !isObject(mod) || typeof mod.WASI !== 'function') return;
    wasiWatched = true;
    const Original = mod.WASI;
    const WASI = class WASI extends Original {
      constructor(...args) {
        try {
          super(...args);
        } catch (err) {
          witness(err);
          if (isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') reportAtSource(err, 'WASI');
          throw err;
        }
      }
    };
    try {
      mod.WASI = WASI;
      require('module').syncBuiltinESMExports();
    } catch {
      // read-only export: WASI denials are then judged as before
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

  function watchFs(only) {
    const note = (name, args, err) => {
      if (isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') {
        witness(err);
        if (!caughtByChannel || !read(err, 'resource')) reportError(err, 'caught', undefined, argumentOf(name, args));
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
    // The callback forms check permissions before they start: a denial is thrown at once (20-26), not
    // handed to the callback, so it is noted on the way out as well.
    const wrapCallback = (fn, name) =>
      keepShape(function (...args) {
        const last = args.length - 1;
        const outer = depth === 0;
        const given = typeof args[last] === 'function' ? args.slice(0, last) : args.slice();
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
