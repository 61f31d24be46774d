'use strict';
// Denial shapes: what permission denial, if any, an error carries, across the error shapes Node 20-26
// throw (ERR_ACCESS_DENIED with permission and resource; net's nested `errno`; fetch's `cause`; DNS
// lookups with only a hostname; aggregate `errors`; ERR_DLOPEN_DISABLED for addons), and which fs calls
// write. Pure: whether Node really made the error is for the caller to judge (`accept`, evidence.cjs).
const { isObject, read } = require('./util.cjs');
const { nodeOptionsWords } = require('./node-options.cjs');
// Taken once, during preload: a require() from inside a wrapped fs call would go through the module
// loader (and the observe run's module hooks) on every call.
const { resolve: resolvePath } = require('path');
const { fileURLToPath } = require('url');

const toStr = String;

/** The denial an error states by itself (not its nested errors), or undefined. `errno`: its errno, read once by the caller. */
function denialShape(err, errno = read(err, 'errno')) {
  const code = read(err, 'code');
  const message = typeof read(err, 'message') === 'string' ? read(err, 'message') : undefined;
  const permission = read(err, 'permission');
  const syscall = read(err, 'syscall');
  if (code === 'ERR_ACCESS_DENIED') {
    if (typeof permission === 'string') return { permission, resource: toStr(read(err, 'resource') ?? ''), code, message };
    if (syscall === 'getaddrinfo' || /^query/.test(toStr(syscall))) return { permission: 'Net', resource: toStr(read(err, 'hostname') ?? ''), code, message };
    if (!isObject(errno)) return { permission: '', resource: '', code, message };
  } else if (code === 'ERR_DLOPEN_DISABLED') {
    return { permission: 'Addon', resource: '', code, message };
  }
  return undefined;
}

/**
 * The denials an error carries: itself, a nested `errno` (net), a `cause` (fetch), `errors`; only those
 * Node produced (`judge.genuine(err, found)`, asked of the denial as the error states it) and the run
 * does not grant (`judge.granted(found)`). `fill`: the path argument of the call the error came out of
 * (see argumentOf), for a file-system denial Node threw without naming its resource.
 */
function denialsOf(err, depth, fill, judge) {
  if (!isObject(err) || depth > 4) return [];
  const out = [];
  const errno = read(err, 'errno');
  let found = denialShape(err, errno);
  if (found && judge.genuine(err, found)) {
    if (depth === 0 && fill !== undefined) found = withArgument(found, fill);
    if (!judge.granted(found)) out.push(found);
  }
  if (isObject(errno)) out.push(...denialsOf(errno, depth + 1, undefined, judge));
  const cause = read(err, 'cause');
  if (isObject(cause)) out.push(...denialsOf(cause, depth + 1, undefined, judge));
  const errors = read(err, 'errors');
  if (Array.isArray(errors)) for (const e of errors) out.push(...denialsOf(e, depth + 1, undefined, judge));
  return out;
}

/**
 * A file-system denial Node threw without a resource (none measured on 20-26 through the public fs
 * API, but a native realpath has been seen to): the path argument of the call it came out of, which
 * the wrapper knows, marked `resourceFrom: 'argument'`. Only with the message of Node's file-system
 * check ("Access to this API has been restricted"): never for an API no flag can lift ("fsync API is
 * disabled ...", "process.binding"), nor for a call that names no path (an fd).
 */
function withArgument(found, fill) {
  if (found.code !== 'ERR_ACCESS_DENIED' || found.resource !== '') return found;
  if (found.permission !== '' && found.permission !== 'FileSystemRead' && found.permission !== 'FileSystemWrite') return found;
  if (typeof found.message !== 'string' || !/^Access to this API has been restricted/.test(found.message)) return found;
  return { ...found, permission: found.permission || fill.permission, resource: fill.resource, resourceFrom: 'argument' };
}

/** The path an fs call names first, resolved as Node would, or undefined (an fd, nothing). */
function pathArg(value) {
  try {
    if (typeof value === 'string') return value === '' ? undefined : resolvePath(value);
    if (Buffer.isBuffer(value)) return resolvePath(value.toString());
    if (value instanceof URL && value.protocol === 'file:') return fileURLToPath(value);
  } catch {
    // not a path we can name
  }
  return undefined;
}

// fs calls that write: once an earlier observe run has granted a write, they succeed too, and their
// path is not something the app read.
const WRITES =
  /^(mkdir|mkdtemp|writeFile|appendFile|write|rm|rmdir|unlink|rename|copyFile|cp|symlink|link|chmod|lchmod|chown|lchown|utimes|lutimes|truncate|ftruncate|fchmod|fchown|futimes|fsync|fdatasync|close)(Sync)?$/;
function writesWith(name, args) {
  if (WRITES.test(name)) return true;
  if (name !== 'open' && name !== 'openSync') return false;
  const flags = args[1];
  return typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & 3) !== 0;
}

/** What a wrapped fs call names: its path argument, read or written (undefined for an fd, nothing). */
function argumentOf(name, args) {
  const file = pathArg(args[0]);
  return file === undefined ? undefined : { permission: writesWith(name, args) ? 'FileSystemWrite' : 'FileSystemRead', resource: file };
}

/** The permission flags in an execArgv and a NODE_OPTIONS text (split as Node splits it, node-options.cjs), in order. */
function permissionWords(execArgv, nodeOptions) {
  const isPermission = (w) => /^--(permission|permission-audit|experimental-permission|allow-[a-z-]+)(=|$)/.test(w);
  const words = [];
  for (const w of execArgv) if (typeof w === 'string' && isPermission(w)) words.push(w);
  const fromEnv = nodeOptionsWords(typeof nodeOptions === 'string' ? nodeOptions : '').filter(isPermission);
  return { execArgv: words, nodeOptions: fromEnv };
}

module.exports = { denialShape, denialsOf, withArgument, pathArg, writesWith, argumentOf, permissionWords };
