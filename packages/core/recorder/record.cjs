'use strict';
// permlearn's record preload: complain mode for a running service. Add it to the normal start command
//   PERMLEARN_RECORD=/var/lib/app-records node --permission-audit --require permlearn/record server.js
// (or through NODE_OPTIONS), leave the service running, then build a profile from what it recorded.
//
// What it records: every permission check Node itself publishes (Node 24+, `--permission-audit`: all
// checks, nothing denied; on top of an enforced profile: the denials), or on Node 20/22 (no audit
// mode) the paths and capabilities the app uses through Node's public JS API, observed without
// enabling the model. Each distinct (permission, resource, call site) is one entry with a count and
// first/last seen times, so memory and disk are bounded by the number of distinct entries (capped),
// never by traffic. Paths and call sites only: no file contents, arguments or environment values.
//
// The record file (one per process, `<folder>/record-<pid>-<start>.ndjson`, created 0600) is rewritten
// whole at intervals and on exit through a temporary file and a rename, so a process killed at any
// moment (SIGKILL included) leaves the last complete record behind. See docs/complain-mode.md.
(function permlearnRecord() {
  const dir = process.env.PERMLEARN_RECORD;
  if (typeof dir !== 'string' || dir === '' || globalThis.__permlearnRecording) return;
  Object.defineProperty(globalThis, '__permlearnRecording', { value: true });
  const fs = require('fs');
  const path = require('path');
  const wt = require('worker_threads');
  if (!wt.isMainThread) return; // Workers share the process: the main thread's checks include theirs (24+)

  // Saved before any app code can replace them.
  const openSync = fs.openSync;
  const writeSync = fs.writeSync;
  const closeSync = fs.closeSync;
  const renameSync = fs.renameSync;
  const mkdirSync = fs.mkdirSync;
  const statSync = fs.statSync;
  const stringify = JSON.stringify;
  const toStr = String;
  const apply = Reflect.apply;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const now = Date.now;
  const resolve = path.resolve;
  const { isNativeError } = require('util').types;
  // Reading V8's call sites: shared with the learning recorder.
  const { callSites, publishedByNode, appSite } = require('./call-sites.cjs')(__filename, 24);

  const major = Number(process.versions.node.split('.')[0]);
  const permission = process.permission;
  const nodeOptions = process.env.NODE_OPTIONS || '';
  const audit = process.execArgv.includes('--permission-audit') || /(^|\s)--permission-audit(\s|$)/.test(nodeOptions);
  const enforced = !audit && permission !== undefined && typeof permission.has === 'function';
  // Node publishes checks (24+) only when a mode is on: audit (all checks) or enforce (the denials).
  const channel = major >= 24 && (audit || enforced);
  const mode = audit ? 'audit' : enforced ? 'enforce' : 'observe';

  const interval = clampNumber(process.env.PERMLEARN_RECORD_INTERVAL, 10_000, 50, 3_600_000);
  const maxEntries = clampNumber(process.env.PERMLEARN_RECORD_MAX, 5_000, 10, 1_000_000);
  const MAX_RESOURCE = 4096;
  const folder = resolve(dir);
  const started = now();
  const file = path.join(folder, 'record-' + process.pid + '-' + started + '.ndjson');
  const temp = file + '.tmp';

  // What this mode cannot see, said in the record itself.
  const unseen = [];
  if (!channel) {
    unseen.push(
      'checks Node makes itself: the module resolver reading package.json files, and ES module loads' +
        (major >= 22 ? ' before the app registers module hooks' : ''),
      'file-system calls made from native addons or through file descriptors alone',
      'WASI, the inspector and network access',
    );
    if (major < 22) unseen.push('ES module files loaded with import (Node 20 has no in-thread module hooks)');
    if (major >= 24 && !audit) unseen.push('started without --permission-audit, so Node published no checks: only the JS API was watched');
  }

  // The signing key (PERMLEARN_RECORD_KEY): taken out of the environment before any app code runs, and
  // given back only to the environment of child processes (a cluster worker records with it too).
  const key =
    typeof process.env.PERMLEARN_RECORD_KEY === 'string' && process.env.PERMLEARN_RECORD_KEY.length >= 16 ? process.env.PERMLEARN_RECORD_KEY : undefined;
  delete process.env.PERMLEARN_RECORD_KEY;
  const createHmac = key !== undefined ? require('crypto').createHmac : undefined;
  const fileId = process.pid + '-' + started;
  /** A line of the record: with a key, an HMAC-SHA256 tag (128 bits) over the file's id and the text. */
  const line = (body) =>
    (createHmac === undefined
      ? body
      : createHmac('sha256', key)
          .update(fileId + '\n' + body)
          .digest('base64url')
          .slice(0, 22) +
        ' ' +
        body) + '\n';
  if (key !== undefined) {
    // Async children (spawn, exec, execFile, fork: cluster workers) all pass through ChildProcess#spawn.
    const { ChildProcess } = require('child_process');
    const spawnChild = ChildProcess.prototype.spawn;
    ChildProcess.prototype.spawn = function spawn(options) {
      if (options && typeof options === 'object' && Array.isArray(options.envPairs)) options.envPairs.push('PERMLEARN_RECORD_KEY=' + key);
      return apply(spawnChild, this, [options]);
    };
  }

  // One entry a distinct (permission, resource, working folder), with the call sites that asked (the
  // first, and up to MAX_SITES more found by sampling repeats).
  /** @type {Map<string, {permission: string, resource: string, cwd?: string, site?: string, sites?: string[], count: number, first: number, last: number, existed?: boolean, denied?: boolean}>} */
  const entries = new Map();
  // Bound once to the original Map methods: cheaper than Reflect.apply on every check, and out of the app's reach.
  const entryOf = mapGet.bind(entries);
  const addEntry = mapSet.bind(entries);
  const MAX_SITES = 7;
  /** A repeat's stack is read once in SAMPLE hits, to find other call sites of the same need. */
  const SAMPLE = 64;
  let dropped = 0;
  /** What was dropped past the cap, by permission: how many, and the first folders (never silent). */
  const droppedBy = new Map();
  const MAX_DROPPED_FOLDERS = 16;
  let dirty = true;
  let inside = false; // the recorder's own file-system calls (they publish checks too)

  function clampNumber(text, fallback, min, max) {
    const n = Number(text);
    return Number.isFinite(n) && n >= min && n <= max ? Math.floor(n) : fallback;
  }

  function cwd() {
    try {
      return process.cwd();
    } catch {
      return undefined;
    }
  }

  /** An absolute path with no `.`/`..` segment, doubled or trailing slash: what resolve() would return unchanged. */
  function normal(p) {
    return p.charCodeAt(0) === 47 && p.indexOf('/.') === -1 && p.indexOf('//') === -1 && (p.length === 1 || p.charCodeAt(p.length - 1) !== 47);
  }

  function drop(perm, resource) {
    dropped++;
    dirty = true;
    let d = apply(mapGet, droppedBy, [perm]);
    if (d === undefined) {
      if (droppedBy.size >= 16) return;
      d = { permission: perm, count: 0, under: [] };
      apply(mapSet, droppedBy, [perm, d]);
    }
    d.count++;
    if (resource === '' || d.under.length >= MAX_DROPPED_FOLDERS) return;
    const under = resource.length > MAX_RESOURCE ? resource.slice(0, MAX_RESOURCE) : path.dirname(resource);
    if (!d.under.includes(under)) d.under.push(under);
  }

  /**
   * The entry for one check, if it was seen before (its count and last time updated): a repeat needs no
   * stack. Every SAMPLE-th repeat returns 'sample' so the caller reads the stack for another call site.
   */
  function repeat(perm, resource) {
    if (inside) return true;
    const entry = entryOf(perm + '\u0000' + resource + '\u0000' + (cwd() || ''));
    if (entry === undefined) return false;
    entry.count++;
    entry.last = now();
    dirty = true;
    if (entry.count % SAMPLE === 0 && (entry.sites === undefined || entry.sites.length < MAX_SITES)) return 'sample';
    return true;
  }

  /** Count one check; a new entry is added only while under the cap (past it: counted, by permission and folder). */
  function note(perm, resource, site, extra, sampled) {
    if (inside) return;
    const at = cwd();
    const k = perm + '\u0000' + resource + '\u0000' + (at || '');
    const entry = entryOf(k);
    if (entry !== undefined) {
      if (!sampled) {
        entry.count++;
        entry.last = now();
        dirty = true;
      }
      if (site !== undefined && site !== entry.site && (entry.sites === undefined || (entry.sites.length < MAX_SITES && !entry.sites.includes(site)))) {
        if (entry.sites === undefined) entry.sites = [];
        entry.sites.push(site);
        dirty = true;
      }
      return;
    }
    if (resource.length > MAX_RESOURCE || entries.size >= maxEntries) return drop(perm, resource);
    const t = now();
    dirty = true;
    const e = { permission: perm, resource, count: 1, first: t, last: t };
    if (at !== undefined) e.cwd = at;
    if (site !== undefined) e.site = site;
    if (extra) Object.assign(e, extra);
    if (e.existed === undefined && (perm === 'FileSystemRead' || perm === 'FileSystemWrite') && resource !== '') e.existed = exists(resource);
    addEntry(k, e);
  }

  /** note() for a need whose call site costs a stack: read only when the need is new (or sampled). */
  function noteLazy(perm, resource, siteOf, extra) {
    const seen = repeat(perm, resource);
    if (seen !== true) note(perm, resource, siteOf(), extra, seen === 'sample');
  }

  function exists(resource) {
    inside = true;
    try {
      return statSync(resource, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return undefined;
    } finally {
      inside = false;
    }
  }

  // The record file: a header, one line per entry, a closing summary. Rewritten whole each time, so
  // its size is bounded by the cap, whatever the traffic.
  function flush(final) {
    if (!dirty && !final) return;
    dirty = false;
    let text = line(
      stringify({
        t: 'record',
        v: 1,
        pid: process.pid,
        node: process.version,
        mode,
        main: process.argv[1],
        cwd: cwd(),
        started,
        unseen,
        signed: key !== undefined,
        max: maxEntries,
      }),
    );
    for (const e of entries.values()) text += line(stringify({ t: 'seen', ...e }));
    const summary = { t: 'summary', flushed: now(), entries: entries.size, dropped, final: final === true };
    if (droppedBy.size > 0) summary.droppedBy = [...droppedBy.values()];
    text += line(stringify(summary));
    inside = true;
    try {
      let fd;
      try {
        fd = openSync(temp, 'w', 0o600);
      } catch {
        // The folder is made only when missing: under an enforced profile only what is in it may be written.
        mkdirSync(folder, { recursive: true, mode: 0o700 });
        fd = openSync(temp, 'w', 0o600);
      }
      try {
        let data = Buffer.from(text);
        while (data.length > 0) data = data.subarray(writeSync(fd, data));
      } finally {
        closeSync(fd);
      }
      renameSync(temp, file);
    } catch {
      // a folder we cannot write: nothing to do but keep the service running
    } finally {
      inside = false;
    }
  }

  const timer = setInterval(flush, interval);
  timer.unref();
  process.on('exit', () => flush(true));
  // A SIGTERM or SIGINT the app does not handle would end the process without 'exit': flush, then let
  // the signal do what it would have done.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    const onSignal = () => {
      flush(true);
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
  process.on('uncaughtExceptionMonitor', () => flush(true));

  if (channel) watchChannels();
  else watchApi();

  /** Node 24+: every check (audit) or denial (enforce) Node publishes, with the app frame that asked. */
  function watchChannels() {
    const dc = require('diagnostics_channel');
    const names = ['fs', 'child', 'worker', 'wasi', 'inspector', 'addon', 'openssl-store', 'net', 'ffi'];
    for (const name of names) {
      const subscriber = (msg) => {
        if (inside || msg === null || typeof msg !== 'object') return;
        const perm = toStr(msg.permission ?? '');
        let resource = msg.resource === undefined || msg.resource === null ? '' : toStr(msg.resource);
        // Node names most paths absolute and normal already: resolve only the others.
        if (name === 'fs' && resource !== '' && !normal(resource)) resource = resolve(resource);
        if (resource.startsWith(folder + path.sep) || resource === folder) return; // the record itself
        // A need already in the record (proven published by Node when it was added) is only counted:
        // no stack is read, so a busy route costs a map look-up. A fake publish can add to a count, never an entry.
        const seen = repeat(perm, resource);
        if (seen === true) return;
        const sites = callSites(subscriber);
        if (!publishedByNode(sites)) return; // not Node's check: no evidence
        note(perm, resource, appSite(sites), enforced ? { denied: true } : undefined, seen === 'sample');
      };
      dc.subscribe('node:permission-model:' + name, subscriber);
    }
  }

  /**
   * Node 20/22 (or 24+ without a mode): the public fs API, child_process, Worker and process.dlopen
   * are wrapped; each call with a path is the check Node would make. Under an enforced profile only
   * the calls Node denied are kept (a native ERR_ACCESS_DENIED error coming out of the real function).
   */
  function watchApi() {
    const WRITES =
      /^(mkdir|mkdtemp|writeFile|appendFile|rm|rmdir|unlink|rename|copyFile|cp|symlink|link|chmod|lchmod|chown|lchown|utimes|lutimes|truncate|lutimes)(Sync)?$/;
    const TWO_PATHS = /^(rename|copyFile|cp|link|symlink)(Sync)?$/;
    const scopeOf = (name, args) => {
      if (WRITES.test(name)) return 'FileSystemWrite';
      if (name === 'open' || name === 'openSync' || name === 'createWriteStream') {
        const flags = name === 'createWriteStream' ? 'w' : args[1];
        if (name === 'createWriteStream' && args[1] && typeof args[1] === 'object' && typeof args[1].flags === 'string')
          return /[wa+]/.test(args[1].flags) ? 'FileSystemWrite' : 'FileSystemRead';
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
    const record = (name, args, fn, err) => {
      if (enforced && !denied(err)) return;
      const p = pathOf(args[0]);
      if (p === undefined || p === folder || p.startsWith(folder + path.sep)) return;
      const flag = enforced ? { denied: true } : undefined;
      const needs = [[TWO_PATHS.test(name) ? (/^copyFile|^cp/.test(name) ? 'FileSystemRead' : 'FileSystemWrite') : scopeOf(name, args), p]];
      if (TWO_PATHS.test(name)) {
        const q = pathOf(args[1]);
        if (q !== undefined) needs.push(['FileSystemWrite', q]);
      }
      let site;
      let found = false;
      for (const [perm, resource] of needs) {
        const seen = repeat(perm, resource);
        if (seen === true) continue; // counted; a repeat needs no stack
        if (!found) {
          site = appSite(callSites(fn));
          found = true;
        }
        note(perm, resource, site, flag, seen === 'sample');
      }
    };
    const wrap = (target, name, kind) => {
      const fn = target[name];
      if (typeof fn !== 'function' || /^[A-Z]/.test(name)) return;
      const wrapped = {
        [name](...args) {
          if (depth > 0 || inside) return apply(fn, this, args);
          if (kind === 'callback' && typeof args[args.length - 1] === 'function') {
            const cb = args[args.length - 1];
            args[args.length - 1] = function (err, ...rest) {
              if (enforced && denied(err)) record(name, args, wrapped, err);
              return apply(cb, this, [err, ...rest]);
            };
          }
          if (!enforced) record(name, args, wrapped);
          depth++;
          let result;
          try {
            result = apply(fn, this, args);
          } catch (err) {
            if (enforced) record(name, args, wrapped, err);
            throw err;
          } finally {
            depth--;
          }
          if (kind === 'promise' && enforced && result && typeof result.then === 'function') {
            result.then(undefined, (err) => record(name, args, wrapped, err));
          }
          return result;
        },
      }[name];
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
    if (fs.promises && typeof fs.promises === 'object')
      for (const name of Object.keys(fs.promises)) if (name !== 'constants') wrap(fs.promises, name, 'promise');

    // Module files: the CommonJS loader reads them (22+ checks each one); the requiring file is the call site.
    if (!enforced) {
      try {
        const Module = require('module');
        const load = Module.prototype.load;
        Module.prototype.load = function (filename) {
          if (typeof filename === 'string' && !inside) {
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
  flush();
})();
