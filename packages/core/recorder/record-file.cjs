'use strict';
// The record preload's file (record.cjs): a header, one line per entry, a closing summary, rewritten
// whole through a temporary file and a rename, so its size is bounded by the cap whatever the traffic,
// and a process killed at any moment (SIGKILL included) leaves the last complete record behind. Written
// at intervals, on exit, on an uncaught exception and on the signals that would end the process.
// Required during preload, before any app code runs, so the built-ins saved here are the originals.
const fs = require('fs');
const { cwd } = require('./record-util.cjs');

const openSync = fs.openSync;
const writeSync = fs.writeSync;
const closeSync = fs.closeSync;
const renameSync = fs.renameSync;
const mkdirSync = fs.mkdirSync;
const stringify = JSON.stringify;
const now = Date.now;

/** flush(final): the record file `file` (in `folder`) rewritten from the store, when it changed or when final;
 *  `header` ({ started, unseen, signed, max }) closes the first line. */
function createFlush(store, { folder, file, line, mode, header }) {
  const { state } = store;
  const temp = file + '.tmp';
  return function flush(final) {
    if (!state.dirty && !final) return;
    state.dirty = false;
    let text = line(stringify({ t: 'record', v: 1, pid: process.pid, node: process.version, mode, main: process.argv[1], cwd: cwd(), ...header }));
    for (const e of state.entries.values()) text += line(stringify({ t: 'seen', ...e }));
    const summary = { t: 'summary', flushed: now(), entries: state.entries.size, dropped: state.dropped, final: final === true };
    if (state.droppedBy.size > 0) summary.droppedBy = [...state.droppedBy.values()];
    text += line(stringify(summary));
    state.inside = true;
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
      state.inside = false;
    }
  };
}

/** Flush every `interval` ms and whenever the process ends. */
function keepFlushed(flush, interval) {
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
}

module.exports = { createFlush, keepFlushed };
