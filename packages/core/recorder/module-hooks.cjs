'use strict';
// The CommonJS loader, watched: every file that loads (`load`), the package.json files the resolver
// checks in observe runs (`probe`), which file was requiring a module that failed, and a denial that
// leaves require() (reported at the source, before a loader that catches it can rewrite it).
const { isObject, read } = require('./util.cjs');

/** `ctx` (recorder.cjs): config, thread, later, loadedFiles, requiring, requirers, witness, reportAtSource, watchWasi. */
function watchRequire(ctx) {
  const { config, thread, later, loadedFiles, requiring, requirers } = ctx;
  try {
    const Module = require('module');
    // Every CommonJS file that loads, so a run with a wide read grant (observe) can say what it really
    // read; the other runs learn from denials alone and report none.
    const load = Module.prototype.load;
    // Reported before the module runs: a module whose own code fails (the entry, often) was still read.
    Module.prototype.load = function (filename) {
      let done;
      if (typeof filename === 'string') {
        if (ctx.loadingFile !== undefined) done = ctx.loadingFile(filename);
        loadedFiles.add(filename);
        if (config.observe) {
          const parent = this.parent && typeof this.parent.filename === 'string' ? this.parent.filename : undefined;
          later({ t: 'load', thread, file: filename, from: parent });
        }
      }
      if (done === undefined) return load.call(this, filename);
      try {
        return load.call(this, filename);
      } finally {
        done();
      }
    };
    const original = Module.prototype.require;
    // The package.json files Node's CommonJS resolver checks for a specifier (22+ checks each one,
    // even where it does not exist): nested node_modules on the way up, and a directory's own.
    const path = require('path');
    const probed = new Set();
    // The observe run notes what Node's own resolution of each require() found, rather than resolving again.
    const frames = [];
    if (config.observe && typeof Module._resolveFilename === 'function') {
      const resolveFilename = Module._resolveFilename;
      Module._resolveFilename = function (request, parent, ...rest) {
        const resolved = resolveFilename.call(this, request, parent, ...rest);
        const top = frames[frames.length - 1];
        if (top && top.resolved === undefined && top.mod === parent && top.id === request) top.resolved = resolved;
        return resolved;
      };
    }
    // The same specifier from the same folder probes the same files again (built-ins none).
    const asked = new Set();
    // The node_modules folders the resolver walks up from a folder, asked of Node once per folder.
    const walks = new Map();
    const reportProbes = (parent, id, known) => {
      if (typeof id !== 'string' || !parent || typeof parent.filename !== 'string') return;
      // Node resolves the same specifier from the same folder to the same file (its own cache for
      // relative ones, which is why `known` is then missing): asked once, not resolved again.
      const dirname = path.dirname(parent.filename);
      const key = dirname + '\u0000' + id;
      if (asked.has(key)) return;
      asked.add(key);
      if (id.startsWith('node:') || (Module.isBuiltin && Module.isBuiltin(id))) return;
      let resolved = known;
      if (typeof resolved !== 'string') {
        try {
          resolved = Module._resolveFilename(id, parent);
        } catch {
          asked.delete(key);
          return;
        }
      }
      const files = [];
      if (id.startsWith('.') || path.isAbsolute(id)) {
        const target = path.resolve(dirname, id);
        if (path.dirname(resolved) === target) files.push(path.join(target, 'package.json'));
      } else {
        const slash = id.indexOf('/');
        const second = slash === -1 || !id.startsWith('@') ? -1 : id.indexOf('/', slash + 1);
        const name = slash === -1 ? id : id.startsWith('@') ? (second === -1 ? id : id.slice(0, second)) : id.slice(0, slash);
        let dirs = walks.get(dirname);
        if (dirs === undefined) {
          dirs = Module._nodeModulePaths(dirname);
          walks.set(dirname, dirs);
        }
        for (const dir of dirs) {
          // Node's own folders are normalised, and a package name has no `.` or `..` segment to join away.
          const pkg = dir + path.sep + name;
          files.push(pkg + path.sep + 'package.json');
          if (resolved.startsWith(pkg + path.sep)) break;
        }
      }
      let fresh;
      for (const f of files) {
        if (probed.has(f)) continue;
        probed.add(f);
        (fresh ??= []).push(f);
      }
      if (fresh !== undefined) later({ t: 'probe', thread, files: fresh, from: parent.filename });
    };
    Module.prototype.require = function require(id) {
      requiring.push(typeof this.filename === 'string' ? this.filename : undefined);
      const frame = config.observe ? { mod: this, id, resolved: undefined } : undefined;
      if (frame) frames.push(frame);
      try {
        const exported = original.call(this, id);
        if (id === 'wasi' || id === 'node:wasi') ctx.watchWasi(exported);
        if (frame) reportProbes(this, id, frame.resolved);
        return exported;
      } catch (err) {
        if (isObject(err) && !requirers.has(err) && typeof this.filename === 'string') requirers.set(err, this.filename);
        // A denial inside require() (the resolver's realpath of the file, on the newest builds): seen
        // here, at the source, before a loader that catches it (napi-rs) turns it into its own error.
        if (isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') {
          ctx.witness(err);
          ctx.reportAtSource(err, 'require');
        }
        throw err;
      } finally {
        requiring.pop();
        if (frame) frames.pop();
      }
    };
  } catch {
    // no CommonJS loader to watch
  }
}

module.exports = { watchRequire };
