'use strict';
// Small helpers every part of the learning recorder uses (see recorder.cjs). Pure: nothing here
// touches the app, so each can be table-tested without starting Node with the recorder.

function isObject(value) {
  return value !== null && typeof value === 'object';
}

/** A property of a value the app made, or undefined when reading it throws (a hostile getter). */
function read(obj, key) {
  try {
    return obj[key];
  } catch {
    return undefined;
  }
}

/** Give a wrapper its original's name and own properties, so the app sees the same function shape. */
function keepShape(wrapper, fn) {
  for (const key of Reflect.ownKeys(fn)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    try {
      Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(fn, key));
    } catch {
      // a property that cannot be copied stays behind; the function still works
    }
  }
  Object.defineProperty(wrapper, 'name', { value: fn.name });
  return wrapper;
}

/** The current working directory, or undefined when it is gone. */
function cwd() {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

const apply = Reflect.apply;
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const setHas = Set.prototype.has;
const setAdd = Set.prototype.add;

/**
 * A path missing at its first report, asked for again from another call site: whether the app survives a
 * denial of it depends on the call site (ESLint stats its cache file inside a try, then asks existsSync
 * outside one), so such a repeat is reported again, at most `limit` more looks a path (a stack read each).
 * `start(key, site)` at the first report; `look(key)` says whether a repeat is worth reading the stack of;
 * `isNew(key, site)` whether that repeat's site is one not reported yet (then it is remembered).
 */
function relooks(limit = 8) {
  const byKey = new Map();
  return {
    start(key, site) {
      apply(mapSet, byKey, [key, { left: limit, sites: new Set([site]) }]);
    },
    look(key) {
      const r = apply(mapGet, byKey, [key]);
      if (r === undefined || r.left === 0) return false;
      r.left--;
      return true;
    },
    isNew(key, site) {
      const r = apply(mapGet, byKey, [key]);
      if (r === undefined || site === undefined || apply(setHas, r.sites, [site])) return false;
      apply(setAdd, r.sites, [site]);
      return true;
    },
  };
}

module.exports = { isObject, read, keepShape, cwd, relooks };
