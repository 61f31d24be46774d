'use strict';
// permlearn's recorder. permlearn preloads it with --require into the app it is learning, after
// prepending one line that defines PERMLEARN_CONFIG ({ fd, ownerPid, eventsDir, observe, keyFd }). It
// reports every permission denial it can see as one JSON line on the extra file descriptor `fd` (fd
// writes are never checked by the permission model), prints nothing, and leaves the app's behaviour alone.
// With `observe` (the one run of the observe strategy, made under a wide read grant) it also reports
// what the app used: every module file (CommonJS and ESM), every path the fs API read successfully,
// each child process started, and the package.json files the CommonJS resolver checks. The messages
// are those of packages/core/src/model/recorder-protocol.ts.
//
// This file is the recorder's main part; the others sit beside it (transport, evidence, denial shapes,
// call sites, module hooks, native loaders, console, channels, process starts, fs, ESM, dropper).
// runner/session.ts bundles them all into one file in the session folder: the only file the learning
// flags let the app's processes read, which Workers and Node children preload with --require too.
//
// Evidence: every line is authenticated with a per-run secret that app code never sees: in the app, a
// token read from the inherited fd `keyFd` (closed before the app runs) that prefixes each line on the
// channel only permlearn reads; in Node children and under `permlearn run --`, an HMAC under a key taken
// out of the environment before the app runs; Workers take theirs out of the workerData the recorder's
// Worker wrapper added. permlearn drops every line that does not authenticate. A denial is only
// reported when Node produced it (evidence.cjs). See docs/security.md.
/* global PERMLEARN_CONFIG */
(function permlearnRecorder(config) {
  // Only the process permlearn started (and its Workers, which share its pid) report. Children
  // that inherit the --require through fork() have another parent and stay silent.
  // Node children the app starts (through NODE_OPTIONS) report to a file of their own in eventsDir,
  // which the learning flags let them write.
  if (!config) return;
  const fs = require('fs');
  const wt = require('worker_threads');
  const { isMainThread } = wt;
  const { isObject, read, cwd, relooks } = require('./util.cjs');
  const { siteOf, callersOf, stackHere, CALLERS } = require('./stacks.cjs');
  const { permissionWords } = require('./denials.cjs');
  const { createEvidence, watchHas } = require('./evidence.cjs');
  const { takeKeys, createTransport } = require('./transport.cjs');
  const { watchRequire } = require('./module-hooks.cjs');
  const { watchDlopen, wasiWatcher } = require('./native.cjs');
  const { watchWasiLoad } = require('./wasi-load.cjs');
  const { watchConsole } = require('./console.cjs');
  const { watchChannels } = require('./channels.cjs');
  const { watchStarts } = require('./starts.cjs');
  const { watchFs, LISTS } = require('./fs.cjs');
  const { watchEsm } = require('./esm.cjs');
  const { installDropper } = require('./dropper.cjs');
  const apply = Reflect.apply;
  const weakHas = WeakSet.prototype.has;
  const weakAdd = WeakSet.prototype.add;
  const self = __filename;
  // Reading V8's call sites, shared with record.cjs.
  const { fileOf, callSites, publishedByNode, appSite, appCallers, byLoader, nearByLoader } = require('./call-sites.cjs')(self, 40, CALLERS);
  const permissionApi = process.permission;
  const permissionHas = permissionApi && typeof permissionApi.has === 'function' ? permissionApi.has : undefined;
  // What the parts share: set up here, in order, before any app code runs.
  const ctx = {
    config,
    self,
    wt,
    fileOf,
    callSites,
    publishedByNode,
    appSite,
    appCallers,
    callers: CALLERS,
    byLoader,
    nearByLoader,
    permissionApi,
    permissionHas,
    asking: false,
    loadingFile: undefined,
    confirming: false,
  };
  watchHas(ctx);

  const isApp = process.ppid === config.ownerPid;
  const keys = takeKeys(config, wt, isApp);
  if (keys === undefined) return; // no key: not permlearn's run, stay silent
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
  // The Node 20 hooks thread (observe runs) writes module loads to the same fd: the --import file that
  // registers it takes the key from here, before any app code runs, and removes it.
  if (isMainThread && typeof config.esmRegister === 'string' && process.execArgv.includes(config.esmRegister)) {
    Object.defineProperty(globalThis, '__permlearnEsmKey', { value: keys.token, configurable: true, enumerable: false, writable: false });
  }
  // A Worker given an execArgv of its own without --permission runs outside the permission model (the
  // thread that started it reports that, starts.cjs): nothing it does needs a grant, so it reports nothing.
  // (It still loads this file when the learning run's NODE_OPTIONS carries it.)
  if (isApp && !isMainThread && process.permission === undefined) return;
  const thread = !isApp ? 'child' : isMainThread ? 'main' : 'worker';
  const { later, hit, send, hold } = createTransport(fd, keys, thread);
  const evidence = createEvidence(ctx);
  // In audit mode nothing is denied (see channels.cjs), and Node children are audited like the app.
  const audit = process.execArgv.includes('--permission-audit') || /--permission-audit/.test(process.env.NODE_OPTIONS || '');
  // The permission flags this Node child was really started with (its execArgv and NODE_OPTIONS): a
  // child whose parent rebuilt its execArgv may hold fewer grants than the app; permlearn compares the
  // two when the child is denied something the app was granted. Read once, before app code runs; only
  // ever used to explain a denial, never to grant.
  const childFlags = thread === 'child' ? permissionWords(process.execArgv, process.env.NODE_OPTIONS) : undefined;
  Object.assign(ctx, {
    keys,
    thread,
    later,
    hit,
    send,
    cwd,
    evidence,
    witness: evidence.witness,
    audit,
    childFlags,
    // Evidence checks: Node 24+ publishes every failed check on a diagnostics channel.
    caughtByChannel: Number(process.versions.node.split('.')[0]) >= 24,
    // Module files: the loader reads them through the public fs API too, which is not the app's doing.
    loadedFiles: new Set(),
    // The files whose require() calls are under way, innermost last.
    requiring: [],
    // A module that fails to load has only Node's frames in its (10-frame) stack; which file was
    // requiring it, remembered without touching the error the app will see.
    requirers: new WeakMap(),
    // The fs function each denied error came out of (fs.cjs), by error.
    deniedCalls: new WeakMap(),
    reportError,
    reportAtSource,
    used,
    usedByResolver,
  });
  ctx.watchWasi = wasiWatcher(ctx);
  watchWasiLoad(ctx);
  watchRequire(ctx);

  /** The call site a stack text names, and the app's frames above it when there are any. */
  function siteAndCallers(stack) {
    const site = siteOf(stack, self);
    if (!site) return {};
    const callers = callersOf(stack, self);
    return callers.length ? { site, callers } : { site };
  }

  /** `stackOfCall`: the stack of the reporting call, whose site stands in when the error's own stack names none. */
  function reportError(err, source, stackOfCall, fill, via, file) {
    // Judged before anything reads the stack (see madeInNode).
    const denials = evidence.denialsIn(err, fill);
    if (denials.length === 0) return;
    const stack = read(err, 'stack');
    let where = siteAndCallers(stack);
    if (!where.site) {
      const requirer = isObject(err) ? ctx.requirers.get(err) : undefined;
      where = requirer ? { site: requirer } : stackOfCall ? siteAndCallers(stackOfCall()) : {};
    }
    const { site } = where;
    const call = isObject(err) ? ctx.deniedCalls.get(err) : undefined;
    for (const d of denials) {
      const fsCall = call !== undefined && (d.permission === 'FileSystemRead' || d.permission === 'FileSystemWrite') ? { call } : {};
      send({
        t: 'denial',
        source,
        thread,
        cwd: cwd(),
        site,
        ...(where.callers && d.permission === 'FileSystemRead' ? { callers: where.callers } : {}),
        time: Date.now(),
        ...d,
        ...fsCall,
        ...(via ? { via } : {}),
        ...(file ? { file } : {}),
        ...(childFlags ? { given: childFlags } : {}),
      });
    }
  }

  /**
   * A denial thrown by a Node API the recorder wraps, reported as it leaves Node ('caught': the app may
   * still catch it, or rewrite it). The error's own 10 frames may not reach past Node's loader and the
   * recorder's wrappers, so the call site falls back to the stack of this call.
   */
  const atSource = new WeakSet();
  function reportAtSource(err, via, file) {
    if (apply(weakHas, atSource, [err])) return; // nested require()s pass the same error on
    apply(weakAdd, atSource, [err]);
    reportError(err, 'caught', stackHere, undefined, via, file);
  }

  const reported = new Set();
  // A missing path looked up again from another call site is reported again, as on the channel (util.cjs).
  const missed = relooks();
  /** Report something used once, with the call site of its first use (and the app's frames above it), and count its repeats. */
  function used(key, message) {
    releaseResolved();
    if (reported.has(key)) {
      if (message.t !== 'miss' || !missed.look(key)) return hit(key);
      const where = siteAndCallers(stackHere());
      if (!missed.isNew(key, where.site)) return hit(key);
      return later({ ...message, thread, ...where });
    }
    reported.add(key);
    if (message.t === 'miss') {
      const where = siteAndCallers(stackHere());
      missed.start(key, where.site);
      return later({ ...message, thread, ...where });
    }
    // A read's frames above its call site tell whether a caller catches it; a start needs only its site.
    if (message.t === 'touch' || message.t === 'miss') later({ ...message, thread, ...siteAndCallers(stackHere()) });
    else later({ ...message, thread, site: siteOf(stackHere(), self) });
  }
  // The resolver realpaths every module just before it loads it. Those uses are held back until the
  // next write (or the next other use, which keeps the order of first uses), and dropped for a file
  // that has loaded by then: its load is the evidence, and permlearn drops a use of a module file.
  let resolved = [];
  function usedByResolver(key, message, site) {
    if (reported.has(key)) return hit(key);
    if (resolved.length === 0) hold(releaseResolved);
    resolved.push({ key, message, site });
  }
  function releaseResolved() {
    if (resolved.length === 0) return;
    const held = resolved;
    resolved = [];
    for (const { key, message, site } of held) {
      if (ctx.loadedFiles.has(message.file)) continue;
      if (reported.has(key)) hit(key);
      else {
        reported.add(key);
        later({ ...message, thread, site });
      }
    }
  }

  // Node grants a process started without an entry file (`node --test` naming none, a program piped to
  // stdin) the whole folder it runs in. Asked before any app code runs; it only ever adds a warning.
  let openCwd;
  if (thread !== 'worker' && permissionHas !== undefined) {
    const here = cwd();
    ctx.confirming = true;
    try {
      if (here !== undefined && apply(permissionHas, permissionApi, ['fs.read', here]) === true) openCwd = here;
    } catch {
      // no answer: nothing said
    } finally {
      ctx.confirming = false;
    }
  }
  send({
    t: 'hello',
    thread,
    pid: process.pid,
    node: process.version,
    main: process.argv[1],
    ...(childFlags ? { given: childFlags } : {}),
    ...(openCwd !== undefined ? { openCwd } : {}),
  });
  // Errors that escape the app: uncaught exceptions and unhandled rejections.
  process.on('uncaughtExceptionMonitor', (err) => reportError(err, 'uncaught'));
  watchConsole(reportError);
  watchChannels(ctx);
  // On 24+ the channel sees the rest; a denial without a resource publishes nothing to name it, so
  // the realpath family (where one has been seen) is still watched, for that case only; and the
  // listings, which the channel reports only when one is a folder's first check.
  if (!ctx.caughtByChannel || config.observe) watchFs(ctx, () => true);
  else watchFs(ctx, (name) => /^realpath(Sync)?$/.test(name) || LISTS.test(name));
  if (config.observe) watchEsm(ctx);
  watchStarts(ctx);
  watchDlopen(ctx);
  // ES module users of fs, child_process and worker_threads see the wrappers too.
  try {
    require('module').syncBuiltinESMExports();
  } catch {
    // older Node without it: CommonJS users are still covered
  }
  if (config.dropFile && isApp && isMainThread) installDropper(config.dropFile, send);
  if (isMainThread) process.on('exit', (code) => send({ t: 'exit', code }));
})(typeof PERMLEARN_CONFIG === 'undefined' ? undefined : PERMLEARN_CONFIG);
