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

module.exports = { isObject, read, keepShape, cwd };
