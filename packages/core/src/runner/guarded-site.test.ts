import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCatchProbe, createGuardProbe } from './guarded-site.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'permlearn-guarded-'));
function source(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
/** The site V8 would name for the first occurrence of `callee` in `text` (1-based line and column). */
function siteOf(file: string, text: string, callee: string): string {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(callee));
  return `${file}:${line + 1}:${lines[line]!.indexOf(callee) + 1}`;
}

describe('createGuardProbe', () => {
  const text = [
    "const fs = require('node:fs');",
    'let s = {};',
    "try { s = JSON.parse(fs.readFileSync('override.json', 'utf8')); } catch { /* defaults */ }",
    "const raw = fs.readFileSync('config.json', 'utf8');",
    "try { fs.statSync('probe.json'); } catch {}",
    "try { fs.lstatSync('test.js'); } catch { return; }",
    'try {',
    "  setTimeout(() => fs.openSync('later.txt'), 1);",
    '} catch (e) {}',
    "try { fs.readdirSync('dir'); } catch {}",
    "try { fs.promises.readFile('p.json').catch(() => {}); } finally {}",
  ].join('\n');
  const file = source('app.cjs', text);
  const probe = createGuardProbe();

  it('a content read inside a try with a catch, in its own function, is guarded', () => {
    expect(probe(siteOf(file, text, "readFileSync('override"))).toBe(true);
    expect(probe(`file://${siteOf(file, text, "readFileSync('override")}`)).toBe(true);
  });

  it('a read outside any try, or in a function the try only creates, is not', () => {
    expect(probe(siteOf(file, text, "readFileSync('config"))).toBe(false);
    expect(probe(siteOf(file, text, "openSync('later"))).toBe(false);
  });

  it('a stat counts only where the catch ignores the failure; readdir and a try without catch never', () => {
    expect(probe(siteOf(file, text, "statSync('probe"))).toBe(true);
    expect(probe(siteOf(file, text, "lstatSync('test"))).toBe(false);
    expect(probe(siteOf(file, text, "readdirSync('dir"))).toBe(false);
    expect(probe(siteOf(file, text, "readFile('p.json"))).toBe(false);
  });

  it('answers no for what it cannot read: a missing file, a syntax acorn does not know, a site that is not one', () => {
    expect(probe(`${dir}/missing.js:1:1`)).toBe(false);
    const ts = source('app.ts', "let x: number = 1;\ntry { fs.readFileSync('a'); } catch {}\n");
    expect(probe(`${ts}:2:10`)).toBe(false);
    expect(probe('index.js:3:10')).toBe(false);
    expect(probe('not a site')).toBe(false);
    expect(probe(`${file}:999:1`)).toBe(false);
  });
});

describe('createCatchProbe: the frames above the call site', () => {
  const helper = [
    "const fs = require('node:fs');",
    'function head(p) {',
    "  const fd = fs.openSync(p, 'r');",
    '  return fd;',
    '}',
    'function statOf(p) {',
    '  return fs.statSync(p);',
    '}',
    'module.exports = { head, statOf };',
  ].join('\n');
  const callerText = [
    "const { head, statOf } = require('./helper.cjs');",
    'function optional() {',
    "  try { return head('/proc/self/exe'); } catch (e) {}",
    '}',
    'function needed() {',
    "  try { return head('data.bin'); } catch (e) { throw new Error('no data'); }",
    '}',
    'function exits() {',
    "  try { return head('x'); } catch (e) { process.exitCode = 2; }",
    '}',
    'function logs() {',
    "  try { return statOf('y'); } catch (e) { console.log(e); }",
    '}',
    'function ignores() {',
    "  try { return statOf('z'); } catch {}",
    '}',
    'function later() {',
    "  try { setTimeout(() => head('t'), 1); } catch {}",
    '}',
    'async function awaited(p) {',
    '  try {',
    "    return await fs.promises.readFile(p, 'utf8');",
    '  } catch (error) {',
    "    if (error.code === 'ENOENT') return undefined;",
    '    throw error;',
    '  }',
    '}',
  ].join('\n');
  const helperFile = source('helper.cjs', helper);
  const callerFile = source('caller.cjs', callerText);
  const probe = createCatchProbe();
  const read = siteOf(helperFile, helper, 'openSync');
  const stat = siteOf(helperFile, helper, 'statSync');
  const at = (callee: string) => siteOf(callerFile, callerText, callee);

  it('a read in a helper with no try is guarded by its caller’s try whose catch does not stop the app', () => {
    expect(probe.guarded(read, [at("head('/proc")])).toBe(true);
    expect(probe.stops(read, [at("head('/proc")])).toBe(false);
    // Without the frames, or with a frame that is not a call in its own function, no.
    expect(probe.guarded(read)).toBe(false);
    expect(probe.guarded(read, [at('function optional')])).toBe(false);
    expect(probe.guarded(read, [at("head('t')")])).toBe(false);
  });

  it('with no `try` in the read’s file nor in its callers’ files there is no catcher (nothing is parsed)', () => {
    const plainText = ["const { head } = require('./helper.cjs');", "module.exports = () => head('/etc/x');"].join('\n');
    const plain = source('plain.cjs', plainText);
    const fresh = createCatchProbe();
    expect(fresh.guarded(read, [siteOf(plain, plainText, "head('/etc")])).toBe(false);
    expect(fresh.stops(read, [siteOf(plain, plainText, "head('/etc")])).toBe(false);
    // The same read called from a frame inside a try is still found (the callers' files are looked at).
    expect(fresh.guarded(read, [at("head('/proc")])).toBe(true);
  });

  it('a caller’s catch that throws or sets process.exitCode stops: not guarded, and a lookup there is fatal', () => {
    expect(probe.guarded(read, [at("head('data")])).toBe(false);
    expect(probe.stops(read, [at("head('data")])).toBe(true);
    expect(probe.guarded(read, [at("head('x')")])).toBe(false);
    expect(probe.stops(read, [at("head('x')")])).toBe(true);
  });

  it('a catch that rethrows all but the codes it names, ERR_ACCESS_DENIED among them, does not stop on a denial', () => {
    const text = [
      "const fs = require('fs');",
      'function pathType(p) {',
      '  try {',
      '    return fs.existsSync(p) && fs.statSync(p);',
      '  } catch (err) {',
      "    if (err.code !== 'ENOENT' && err.code !== 'ERR_ACCESS_DENIED') {",
      '      throw err;',
      '    }',
      '  }',
      '}',
      'function strict(p) {',
      '  try {',
      '    return fs.readFileSync(p);',
      '  } catch (err) {',
      "    if (err.code !== 'ENOENT') throw err;",
      "    if (err.code === 'ERR_ACCESS_DENIED') throw err;",
      '  }',
      '}',
      'module.exports = { pathType, strict };',
    ].join('\n');
    const file = source('tolerant.cjs', text);
    const p = createCatchProbe();
    expect(p.stops(siteOf(file, text, 'existsSync'))).toBe(false);
    expect(p.stops(siteOf(file, text, 'readFileSync'))).toBe(true);
  });

  it('an existsSync no try catches is uncaught (its denial stops the app); one inside a try, or at a site it cannot read, is not', () => {
    const text = [
      "const fs = require('fs');",
      'function find(dir) {',
      "  return fs.existsSync(dir + '/a.config.js');",
      '}',
      'function tolerant(dir) {',
      '  try {',
      "    return fs.existsSync(dir + '/b.config.js');",
      '  } catch {',
      '    return false;',
      '  }',
      '}',
      'module.exports = { find, tolerant };',
    ].join('\n');
    const file = source('lookups.cjs', text);
    const p = createCatchProbe();
    expect(p.uncaught(siteOf(file, text, "existsSync(dir + '/a"))).toBe(true);
    expect(p.uncaught(siteOf(file, text, "existsSync(dir + '/b"))).toBe(false);
    expect(p.uncaught(`${file}:99:1`)).toBe(false);
    expect(p.uncaught(`${dir}/absent.cjs:3:13`)).toBe(false);
  });

  it('a stat counts only under an empty catch, in a caller as in its own function', () => {
    expect(probe.guarded(stat, [at("statOf('y')")])).toBe(false);
    expect(probe.guarded(stat, [at("statOf('z')")])).toBe(true);
  });

  it('a frame named by its await (a rejection resumed it) is the read it awaits', () => {
    const site = siteOf(callerFile, callerText, 'await fs.promises');
    expect(probe.stops(site)).toBe(true);
    expect(probe.guarded(site)).toBe(false);
  });
});

describe('createCatchProbe: a catch that throws what it does not expect hands it on', () => {
  // isexe's sync() rethrows anything but EACCES; which's loop calls it inside an empty catch.
  const mode = ["const fs = require('node:fs');", 'function sync(p) {', '  return checkStat(fs.statSync(p));', '}', 'module.exports = { sync };'].join('\n');
  const isexe = [
    "const core = require('./mode.cjs');",
    'function sync(p, options) {',
    '  try {',
    '    return core.sync(p);',
    '  } catch (er) {',
    "    if ((options && options.ignoreErrors) || er.code === 'EACCES') return false;",
    '    else throw er;',
    '  }',
    '}',
    'function exiting(p) {',
    "  try { return core.sync(p); } catch (er) { if (er.code !== 'ENOENT') process.exit(1); throw er; }",
    '}',
    'module.exports = { sync, exiting };',
  ].join('\n');
  const which = [
    "const isexe = require('./isexe.cjs');",
    'function find(cur) {',
    '  try {',
    '    if (isexe.sync(cur)) return cur;',
    '  } catch (ex) {}',
    '}',
    'function onward(cur) {',
    '  return isexe.sync(cur);',
    '}',
    'function handled(cur) {',
    '  try {',
    '    try { return isexe.sync(cur); } catch (e) { failed = true; if (e.pending) throw e; report(e); }',
    '  } catch {}',
    '}',
    'function inner(cur) {',
    '  try {',
    '    try { return isexe.sync(cur); } catch (e) { throw e; }',
    '  } catch {}',
    '}',
  ].join('\n');
  const modeFile = source('mode.cjs', mode);
  const isexeFile = source('isexe.cjs', isexe);
  const whichFile = source('which.cjs', which);
  const probe = createCatchProbe();
  const stat = siteOf(modeFile, mode, 'statSync');
  /** The site of `callee` on line `line` (1-based) of a source. */
  const on = (file: string, text: string, line: number, callee: string) => `${file}:${line}:${text.split('\n')[line - 1]!.indexOf(callee) + 1}`;
  const rethrowSite = on(isexeFile, isexe, 4, 'sync');
  const exitSite = on(isexeFile, isexe, 11, 'sync');
  const found = on(whichFile, which, 4, 'sync');
  const onward = on(whichFile, which, 8, 'sync');
  const handledSite = on(whichFile, which, 12, 'sync');
  const inner = on(whichFile, which, 17, 'sync');

  it("the caller's empty catch decides: the stat is guarded, and nothing stops", () => {
    expect(probe.guarded(stat, [rethrowSite, found])).toBe(true);
    expect(probe.stops(stat, [rethrowSite, found])).toBe(false);
    // A try whose catch rethrows, inside a try of the same function that ignores: guarded as well.
    expect(probe.guarded(stat, [rethrowSite, inner])).toBe(true);
  });

  it('thrown past every frame known, or from a catch that also exits: it stops', () => {
    expect(probe.stops(stat, [rethrowSite, onward])).toBe(true);
    expect(probe.guarded(stat, [rethrowSite, onward])).toBe(false);
    expect(probe.stops(stat, [rethrowSite])).toBe(true);
    expect(probe.stops(stat, [exitSite, found])).toBe(true);
    // A catch that does work of its own before it may rethrow (mocha's done(err) fails the test) decides.
    expect(probe.stops(stat, [rethrowSite, handledSite])).toBe(true);
    expect(probe.guarded(stat, [rethrowSite, handledSite])).toBe(false);
  });
});

describe('createCatchProbe: a catch that calls a function of its own file', () => {
  // terser's read_file: a catch that calls fatal(), which prints and exits.
  const text = [
    "const fs = require('node:fs');",
    'function fatal(message) {',
    '  console.error(message);',
    '  process.exit(1);',
    '}',
    'function note(message) {',
    '  console.error(message);',
    '}',
    'let runtimeError = function (msg) {',
    "  process.stderr.write('x: ' + msg);",
    '  process.exitCode = 1;',
    '};',
    'const warn = (msg) => console.warn(msg);',
    'function run() {',
    '  function readFile(p, fallback) {',
    "    try { return fs.readFileSync(p, 'utf8'); } catch (ex) { if (ex.code == 'ENOENT' && fallback != null) return fallback; fatal(ex); }",
    '  }',
    '  function readNote(p) {',
    "    try { return fs.readFileSync(p, 'utf8'); } catch (ex) { note(ex); }",
    '  }',
    '  function readData(p) {',
    "    try { return fs.readFileSync(p, 'utf8'); } catch (err) { runtimeError(err.message); return; }",
    '  }',
    '  function readWarn(p) {',
    "    try { return fs.readFileSync(p, 'utf8'); } catch (err) { warn(err.message); }",
    '  }',
    '  return [readFile, readNote, readData, readWarn];',
    '}',
  ].join('\n');
  const file = source('cli.cjs', text);
  const probe = createCatchProbe();
  const line = (n: number) => `${file}:${n}:${text.split('\n')[n - 1]!.indexOf('readFileSync') + 1}`;

  it('exits when the function it calls exits; a function that only logs does not', () => {
    expect(probe.stops(line(16))).toBe(true);
    expect(probe.guarded(line(16))).toBe(false);
    expect(probe.stops(line(19))).toBe(false);
    expect(probe.guarded(line(19))).toBe(true);
  });

  it('a function held in a variable counts the same (ejs: let runtimeError = function …)', () => {
    expect(probe.stops(line(22))).toBe(true);
    expect(probe.guarded(line(22))).toBe(false);
    expect(probe.stops(line(25))).toBe(false);
  });
});
