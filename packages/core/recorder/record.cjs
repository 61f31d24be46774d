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
//
// This file is its main part; the others sit beside it, required from here (record-util.cjs,
// record-key.cjs: signing, record-store.cjs: entries, record-file.cjs: writing, record-channels.cjs:
// Node 24+ checks, record-api.cjs: Node 20/22, and call-sites.cjs, shared with the learning recorder).

(function permlearnRecord() {
  const dir = process.env.PERMLEARN_RECORD;
  if (typeof dir !== 'string' || dir === '' || globalThis.__permlearnRecording) return;
  Object.defineProperty(globalThis, '__permlearnRecording', { value: true });
  const path = require('path');
  const wt = require('worker_threads');
  if (!wt.isMainThread) return; // Workers share the process: the main thread's checks include theirs (24+)

  // Each part saves the built-ins it uses when required: before any app code can replace them.
  const { RECORD_FILES, clampNumber } = require('./record-util.cjs');
  const { takeRecordKey } = require('./record-key.cjs');
  const { createStore } = require('./record-store.cjs');
  const { createFlush, keepFlushed } = require('./record-file.cjs');
  const { watchChannels } = require('./record-channels.cjs');
  const { watchApi } = require('./record-api.cjs');
  // Reading V8's call sites: shared with the learning recorder. The frames of every part are the preload's.
  const { callSites, publishedByNode, appSite } = require('./call-sites.cjs')(
    RECORD_FILES.map((name) => path.join(__dirname, name)),
    24,
  );

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
  const folder = path.resolve(dir);
  const started = Date.now();
  const file = path.join(folder, 'record-' + process.pid + '-' + started + '.ndjson');

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

  const { signed, line } = takeRecordKey(process.pid + '-' + started);
  const store = createStore(maxEntries);
  const flush = createFlush(store, { folder, file, line, mode, header: { started, unseen, signed, max: maxEntries } });
  keepFlushed(flush, interval);

  // The working folder changes only through process.chdir (Node's own cache of process.cwd() relies on
  // that too): the store is told, so that a repeat need not ask for the folder.
  const chdirOriginal = process.chdir;
  if (typeof chdirOriginal === 'function') {
    const apply = Reflect.apply;
    process.chdir = function chdir(directory) {
      try {
        return apply(chdirOriginal, process, [directory]);
      } finally {
        store.moved();
      }
    };
  }

  const rec = { store, folder, enforced, callSites, publishedByNode, appSite };
  if (channel) watchChannels(rec);
  else watchApi(rec);
  flush();
})();
