'use strict';
// The record preload's signing (record.cjs): the key PERMLEARN_RECORD_KEY is taken out of the
// environment before any app code runs, and given back only to the environment of child processes (a
// cluster worker records with it too). With a key, each line of a record carries an HMAC-SHA256 tag.

/** The key (or undefined), and `line(body)`: one line of the record file `fileId`, tagged when there is a key. */
function takeRecordKey(fileId) {
  const apply = Reflect.apply;
  const key =
    typeof process.env.PERMLEARN_RECORD_KEY === 'string' && process.env.PERMLEARN_RECORD_KEY.length >= 16 ? process.env.PERMLEARN_RECORD_KEY : undefined;
  delete process.env.PERMLEARN_RECORD_KEY;
  // hmac-sha256.cjs: the same tags as node:crypto's, without loading it into the service.
  const tagger = key !== undefined ? require('./hmac-sha256.cjs').hmacSha256(key) : undefined;
  /** A line of the record: with a key, an HMAC-SHA256 tag (128 bits) over the file's id and the text. */
  const line = (body) => (tagger === undefined ? body : tagger.tag(fileId + '\n' + body) + ' ' + body) + '\n';
  if (key !== undefined) {
    // Async children (spawn, exec, execFile, fork: cluster workers) all pass through ChildProcess#spawn.
    const { ChildProcess } = require('child_process');
    const spawnChild = ChildProcess.prototype.spawn;
    ChildProcess.prototype.spawn = function spawn(options) {
      if (options && typeof options === 'object' && Array.isArray(options.envPairs)) options.envPairs.push('PERMLEARN_RECORD_KEY=' + key);
      return apply(spawnChild, this, [options]);
    };
  }
  return { signed: key !== undefined, line };
}

module.exports = { takeRecordKey };
