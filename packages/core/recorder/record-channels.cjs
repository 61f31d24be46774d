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
  const { state, repeat, note } = store;
  const dc = require('diagnostics_channel');
  const names = ['fs', 'child', 'worker', 'wasi', 'inspector', 'addon', 'openssl-store', 'net', 'ffi'];
  for (const name of names) {
    const subscriber = (msg) => {
      if (state.inside || msg === null || typeof msg !== 'object') return;
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

module.exports = { watchChannels };
