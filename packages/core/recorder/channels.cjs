'use strict';
// Node 24+ publishes every failed check, caught or not, on the permission model's diagnostics
// channels. Each distinct check is reported once ('channel'), with the call site of its first caller;
// repeats are counted under the key model/recorder-protocol.ts checkKey() builds.
const fs = require('fs');
const { isObject, relooks } = require('./util.cjs');

const toStr = String;
const apply = Reflect.apply;
const setHas = Set.prototype.has;
const setAdd = Set.prototype.add;
const setDelete = Set.prototype.delete;

// Where Node's public fs functions live, and the shape of a name model/parse-events.ts accepts.
const FS_FILES = new Set(['node:fs', 'node:internal/fs/promises']);
const FS_NAME = /^[a-z][A-Za-z]{0,39}$/;

const NAMES = ['fs', 'child', 'worker', 'wasi', 'inspector', 'addon', 'openssl-store', 'net', 'ffi'];

/** `ctx` (recorder.cjs): thread, cwd, send, hit, audit, childFlags, the call-site tools, evidence, asking, confirming. */
function watchChannels(ctx) {
  const { thread, cwd, send, hit, audit, childFlags, fileOf, callSites, publishedByNode, appSite, appCallers, byLoader, nearByLoader, evidence } = ctx;
  const dc = require('diagnostics_channel');
  // In audit mode nothing is denied, so the app may create a path the moment after it is checked.
  // Whether the path existed at the check tells permlearn to grant a created directory as `dir/*`, and
  // that a connect to a Unix socket that is not there could not have worked anyway (tighten.ts).
  let inside = false;
  function existedAtCheck(name, msg) {
    if (!audit || (name !== 'fs' && name !== 'net') || typeof msg.resource !== 'string' || msg.resource === '') return undefined;
    if (name === 'net' && !msg.resource.startsWith('/')) return undefined;
    inside = true;
    try {
      return fs.statSync(msg.resource, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return undefined;
    } finally {
      inside = false;
    }
  }
  function callersIn(sites) {
    const callers = appCallers(sites, ctx.callers);
    return callers.length ? { callers } : {};
  }
  /** The fs function whose check this is (`readlinkSync`, `mkdir` of fs.promises): the frame under the
   *  publish. A denied mkdir is a folder the app creates; a stat or readlink of a folder is not a listing. */
  function fsCall(sites) {
    const caller = sites[1];
    if (!caller || !FS_FILES.has(fileOf(caller))) return {};
    try {
      const fn = caller.getFunctionName();
      return typeof fn === 'string' && FS_NAME.test(fn) ? { call: fn } : {};
    } catch {
      return {};
    }
  }
  // A path missing at its first check, asked for again from another call site, is reported again (util.cjs).
  const relooked = relooks();
  function report(name, msg, permission, resource, asking, sites, loader, key) {
    const existed = existedAtCheck(name, msg);
    if (key !== undefined && existed === false && permission === 'FileSystemRead' && !loader) {
      relooked.start(key, appSite(sites));
    }
    send({
      t: 'denial',
      source: 'channel',
      thread,
      time: Date.now(),
      cwd: cwd(),
      site: appSite(sites),
      ...(permission === 'FileSystemRead' && !loader ? callersIn(sites) : {}),
      permission,
      resource,
      code: 'ERR_ACCESS_DENIED',
      existed,
      ...(loader ? { loader: true } : {}),
      ...(name === 'fs' && !loader ? fsCall(sites) : {}),
      ...(childFlags ? { given: childFlags } : {}),
      ...(asking ? { asked: 'has' } : {}),
    });
  }
  const checked = new Set();
  // Keys first seen from Node's module loader: a later check of the same path by an fs call of the
  // app (a listing of the entry's own folder) is reported again, once, with its call site.
  const loaderFirst = new Set();
  for (const name of NAMES) {
    const subscriber = (msg) => {
      if (!isObject(msg) || inside || ctx.confirming) return; // our own stat and has() publish too
      const asking = ctx.asking;
      const permission = toStr(msg.permission ?? '');
      const resource = msg.resource === undefined || msg.resource === null ? '' : toStr(msg.resource);
      // The same key as checkKey() in model/recorder-protocol.ts.
      const key = (asking ? 'has\u0000' : 'check\u0000') + permission + '\u0000' + resource + '\u0000' + (cwd() || '');
      if (apply(setHas, checked, [key])) {
        if (!apply(setHas, loaderFirst, [key])) {
          if (!relooked.look(key)) return hit(key);
          const again = callSites(subscriber);
          const site = publishedByNode(again) && !byLoader(again) ? appSite(again) : undefined;
          if (!relooked.isNew(key, site)) return hit(key);
          return report(name, msg, permission, resource, asking, again, false);
        }
        // Most such repeats are the loader's again (a stat, then the read): a few frames say so.
        if (nearByLoader(subscriber)) return hit(key);
        const again = callSites(subscriber);
        if (!publishedByNode(again) || byLoader(again)) return hit(key);
        apply(setDelete, loaderFirst, [key]);
        return report(name, msg, permission, resource, asking, again, false);
      }
      const sites = callSites(subscriber);
      if (!publishedByNode(sites)) return; // not Node's check: no evidence
      apply(setAdd, checked, [key]);
      apply(setAdd, evidence.publishedChecks, [permission + '\u0000' + resource]);
      if (!audit && evidence.granted(permission, resource)) return;
      const loader = name === 'fs' && byLoader(sites);
      if (loader) apply(setAdd, loaderFirst, [key]);
      report(name, msg, permission, resource, asking, sites, loader, key);
    };
    dc.subscribe('node:permission-model:' + name, subscriber);
  }
}

module.exports = { watchChannels };
