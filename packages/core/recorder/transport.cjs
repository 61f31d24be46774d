'use strict';
// The learning recorder's channel: the run's keys (however they reached this thread, taken out of the
// app's reach), and writing authenticated lines. Lines on the app's own channel (a pipe only permlearn
// reads) carry the secret token itself; lines in a Node child's report file, which others may read,
// carry an HMAC under the key instead. The messages are those of
// packages/core/src/model/recorder-protocol.ts.
const fs = require('fs');

// Saved before any app code can replace them.
const stringify = JSON.stringify;
const bufferFrom = Buffer.from;
const apply = Reflect.apply;
const writeSync = fs.writeSync; // the original, before the fs watcher wraps it

const ENV_KEY = 'PERMLEARN_RECORDER_KEY';
const DATA_KEY = '\u0000permlearn-recorder';

/**
 * This thread's keys: { token (prefixes its lines on the app's own channel) or key (signs them, HMAC,
 * in a Node child's report file); child: the key given on to Node children }, or undefined (not
 * permlearn's run). A Worker's come in its workerData (the app's own is given back); a Node child's in
 * the environment (removed); the app's from the inherited fd `keyFd` (closed).
 */
function takeKeys(config, wt, isApp) {
  const fromEnv = process.env[ENV_KEY];
  if (fromEnv !== undefined) delete process.env[ENV_KEY];
  let keys;
  if (!wt.isMainThread) {
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
  if (!keys || typeof keys.child !== 'string' || (typeof keys.token !== 'string' && typeof keys.key !== 'string')) return undefined;
  return keys;
}

/** The token and child key permlearn wrote into `keyFd`, read to its end; the fd is closed either way. */
function readKeys(keyFd) {
  let text = '';
  try {
    const buf = Buffer.alloc(256);
    const wait = new Int32Array(new SharedArrayBuffer(4));
    for (let tries = 0; tries < 2000 && text.length < 256;) {
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

/**
 * Writing to `fd`. Module loads and probes are many and arrive in bursts: they are queued (`later`) and
 * written once per tick. Everything else (`send`: denials, exit) flushes the queue and is written at
 * once. Repeats of something already reported are only counted (`hit(key)`, the keys of
 * recorder-protocol.ts) and the counts sent with the next batch.
 */
function createTransport(fd, keys, thread) {
  // Signing without node:crypto, so that a Node child does not load it (hmac-sha256.cjs: the same tags).
  const tagger = typeof keys.key === 'string' ? require('./hmac-sha256.cjs').hmacSha256(keys.key) : undefined;
  let open = true;
  let queue = '';
  let flushPending = false;
  let hits = null;
  let lastHit = null;
  // Called at each flush before anything is written: a part may still queue what it held back.
  let beforeFlush = null;
  function later(message) {
    if (!open) return;
    queue += signed(message);
    if (!flushPending) {
      flushPending = true;
      process.nextTick(flush);
    }
  }
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
    if (beforeFlush !== null) beforeFlush();
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
  /** One line: the token (or the HMAC-SHA256 of the JSON text, 22 characters of base64url), a space, the JSON text. */
  function signed(message) {
    const body = stringify(message);
    const tag = tagger === undefined ? keys.token : tagger.tag(body);
    return tag + ' ' + body + '\n';
  }
  function send(message) {
    if (!open) return;
    flush();
    write(signed(message));
  }
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
  /** Make sure a flush comes (for what `beforeFlush` holds), and set what it calls first. */
  function hold(fn) {
    beforeFlush = fn;
    if (open && !flushPending) {
      flushPending = true;
      process.nextTick(flush);
    }
  }
  return { later, hit, send, hold };
}

module.exports = { ENV_KEY, DATA_KEY, takeKeys, readKeys, createTransport };
