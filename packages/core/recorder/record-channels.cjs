'use strict';
// The record preload on Node 24+ with a mode on (record.cjs): every check (audit) or denial (enforce)
// Node publishes on its permission-model channels, with the app frame that asked.
const path = require('path');
const { normal } = require('./record-util.cjs');

const resolve = path.resolve;
const toStr = String;

/** Subscribe to each permission-model channel; `rec` is record.cjs's context (store, folder, enforced, call sites). */
function watchChannels(rec) {
  const { store, folder, enforced, callSites, publishedByNode, appSite } = rec;
  const { state, hit, repeat, note, drop, full } = store;
  const inFolder = folder + path.sep;
  const flag = enforced ? { denied: true } : undefined;
  const dc = require('diagnostics_channel');
  const names = ['fs', 'child', 'worker', 'wasi', 'inspector', 'addon', 'openssl-store', 'net', 'ffi'];
  for (const name of names) {
    const subscriber = (msg) => {
      if (state.inside || msg === null || typeof msg !== 'object') return;
      const given = msg.resource;
      const permission = msg.permission;
      // The repeat path (every check after a need's first): two map look-ups by the strings as Node gave
      // them, a count and a coarse time; no key is built, no path resolved, no stack read.
      if (typeof permission === 'string' && typeof given === 'string') {
        const seen = hit(permission, given);
        if (seen === true) return;
        if (seen === 'sample') return sample(name, permission, given, subscriber);
      }
      const perm = toStr(permission ?? '');
      let resource = given === undefined || given === null ? '' : toStr(given);
      // Node names most paths absolute and normal already: resolve only the others.
      if (name === 'fs' && resource !== '' && !normal(resource)) resource = resolve(resource);
      if (resource.startsWith(inFolder) || resource === folder) return; // the record itself
      // A need already in the record (proven published by Node when it was added) is only counted:
      // no stack is read. A fake publish can add to a count, never an entry.
      const raw = typeof given === 'string' ? given : undefined;
      const seen = repeat(perm, resource, raw);
      if (seen === true) return;
      if (seen === false && full()) return drop(perm, resource); // past the cap: counted, no stack needed
      const sites = callSites(subscriber);
      if (!publishedByNode(sites)) return; // not Node's check: no evidence
      note(perm, resource, appSite(sites), flag, seen === 'sample', raw);
    };
    dc.subscribe('node:permission-model:' + name, subscriber);
  }

  /** A sampled repeat (already counted): its stack read for a call site the entry does not have yet. */
  function sample(name, permission, given, subscriber) {
    const sites = callSites(subscriber);
    if (!publishedByNode(sites)) return;
    let resource = given;
    if (name === 'fs' && resource !== '' && !normal(resource)) resource = resolve(resource);
    note(permission, resource, appSite(sites), flag, true);
  }
}

module.exports = { watchChannels };
