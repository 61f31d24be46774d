'use strict';
// Small helpers of the record preload (record.cjs): its own files, a number from the environment, the
// working folder, and whether a path is already normal. Required during preload, before any app code runs.

/** The record preload's files: their frames are never the app's, and an enforced profile must let them be read. */
const RECORD_FILES = [
  'record.cjs',
  'record-util.cjs',
  'record-key.cjs',
  'record-store.cjs',
  'record-file.cjs',
  'record-channels.cjs',
  'record-api.cjs',
  'call-sites.cjs',
  'hmac-sha256.cjs',
];

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

module.exports = { RECORD_FILES, clampNumber, cwd, normal };
