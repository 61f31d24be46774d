#!/usr/bin/env node
// Capture REAL stderr of Permission Model denials from the bundled Node builds (20/22/24/26),
// for the denial parser's unit tests.
//
//   node scripts/capture-denials.mjs            # all majors
//   node scripts/capture-denials.mjs 24 26      # only some majors (index.json keeps the others)
//
// For every major and case: write a tiny app into a fresh temp dir, run it under the enable flag
// (`--experimental-permission` on 20, `--permission` otherwise) with only the grants the snippet
// needs besides the denial being provoked, sanitise stderr (temp dir -> /APP, the binary's path
// -> <execPath>, PIDs -> <pid>) and write test/captures/node<major>/<case>.stderr.
// On 24/26 it also records audit-mode diagnostics-channel events as
// test/captures/node<major>/audit-<case>.ndjson.
// test/captures/index.json lists every capture with its expectation (written by hand from the
// snippet, NOT derived by parsing the output) and a `check` that compares the two.
//
// Idempotent: the per-major directories are rebuilt from scratch on every run.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import { majors as allMajors, nodeBinary } from '@permlearn/test-nodes';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = path.join(root, 'test', 'captures');
const APP = '/APP';
const EXEC = '<execPath>';
const TIMEOUT_MS = 30_000;

const js = (s) => JSON.stringify(s); // a JS string literal for a snippet

// ---------------------------------------------------------------------------------------------
// Expectations. `block` describes the `{ ... }` property block as the snippet implies it:
// code, permission, resource (null = the line is absent). `need` is what a learner must do about
// it: a flag to add, or null when no flag can grant it. `resource` values use /APP and <execPath>.

const fsRead = (resource) => ({
  block: { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource },
  need: { flag: '--allow-fs-read', resource },
});
const fsWrite = (resource) => ({
  block: { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemWrite', resource },
  need: { flag: '--allow-fs-write', resource },
});
const boolDenial = (permission, resource, flag) => ({
  block: { code: 'ERR_ACCESS_DENIED', permission, resource },
  need: { flag, resource: null },
});

// ---------------------------------------------------------------------------------------------
// Cases. files(ctx) -> { relPath: content }, ctx = { dir, major }. grants(ctx) -> extra flags
// (the entry-file grant on 20 is added automatically). majors: where the case can produce its
// denial; other majors are skipped (or probed when `probe` is set, see below).

const cases = [
  {
    name: 'fs-read-sync',
    what: 'readFileSync of an absolute path that is not granted',
    files: ({ dir }) => ({
      'index.js': `const fs = require('fs');\nfs.readFileSync(${js(dir + '/secret.txt')});\n`,
      'secret.txt': 'secret\n',
    }),
    expected: () => fsRead(`${APP}/secret.txt`),
  },
  {
    name: 'fs-read-relative',
    what: "readFileSync('data/x.txt') with a relative path (cwd = app dir)",
    files: () => ({
      'index.js': `const fs = require('fs');\nfs.readFileSync('data/x.txt');\n`,
      'data/x.txt': 'x\n',
    }),
    expected: () => fsRead('data/x.txt'),
  },
  {
    name: 'fs-write',
    what: 'writeFileSync of an absolute path that is not granted',
    files: ({ dir }) => ({
      'index.js': `const fs = require('fs');\nfs.writeFileSync(${js(dir + '/out.txt')}, 'data');\n`,
    }),
    expected: () => fsWrite(`${APP}/out.txt`),
  },
  {
    name: 'fs-read-async-unhandled',
    what: 'fs.promises.readFile rejected, rejection not handled',
    files: ({ dir }) => ({
      'index.js': `const fs = require('fs');\nfs.promises.readFile(${js(dir + '/secret.txt')});\n`,
      'secret.txt': 'secret\n',
    }),
    expected: () => fsRead(`${APP}/secret.txt`),
  },
  {
    name: 'esm-import',
    what: 'main.mjs imports ./lib.mjs, which is not granted (22+: no grants at all)',
    entry: 'main.mjs',
    files: () => ({
      'main.mjs': `import { x } from './lib.mjs';\nconsole.log(x);\n`,
      'lib.mjs': `export const x = 1;\n`,
    }),
    expected: () => fsRead(`${APP}/lib.mjs`),
  },
  {
    name: 'require-module',
    what: "require('./lib/a') where lib/a.js is not granted",
    files: () => ({
      'index.js': `require('./lib/a');\n`,
      'lib/a.js': `module.exports = 1;\n`,
    }),
    expected: () => fsRead(`${APP}/lib/a.js`),
  },
  {
    name: 'child-spawn',
    what: "execSync('true') (runs through /bin/sh)",
    files: () => ({ 'index.js': `require('child_process').execSync('true');\n` }),
    expected: ({ major }) => boolDenial('ChildProcess', major === 20 ? '' : '/bin/sh', '--allow-child-process'),
  },
  {
    name: 'child-spawn-noshell',
    what: "execFileSync('true') (no shell)",
    files: () => ({ 'index.js': `require('child_process').execFileSync('true');\n` }),
    expected: ({ major }) => boolDenial('ChildProcess', major === 20 ? '' : 'true', '--allow-child-process'),
  },
  {
    name: 'child-fork',
    what: 'fork(<app>/child.js)',
    files: ({ dir }) => ({
      'index.js': `require('child_process').fork(${js(dir + '/child.js')});\n`,
      'child.js': `console.log('child');\n`,
    }),
    expected: ({ major }) => boolDenial('ChildProcess', major === 20 ? '' : EXEC, '--allow-child-process'),
  },
  {
    name: 'worker',
    what: 'new Worker(<app>/w.js)',
    files: ({ dir }) => ({
      'index.js': `const { Worker } = require('worker_threads');\nnew Worker(${js(dir + '/w.js')});\n`,
      'w.js': `console.log('worker');\n`,
    }),
    expected: () => boolDenial('WorkerThreads', '', '--allow-worker'),
  },
  {
    name: 'wasi',
    what: "new WASI({ version: 'preview1' })",
    files: () => ({
      'index.js': `const { WASI } = require('wasi');\nnew WASI({ version: 'preview1' });\n`,
    }),
    expected: () => boolDenial('WASI', '', '--allow-wasi'),
  },
  {
    name: 'addon',
    what: "require('./fake.node') where fake.node is NOT a real addon (garbage bytes), and NOT granted for reading",
    files: () => ({
      'index.js': `require('./fake.node');\n`,
      'fake.node': 'not an ELF file\n',
    }),
    expected: () => ({
      block: { code: 'ERR_DLOPEN_DISABLED', permission: null, resource: null },
      need: { flag: '--allow-addons', resource: null },
    }),
  },
  {
    name: 'inspector',
    what: "new (require('inspector').Session)().connect()",
    files: () => ({
      'index.js': `const { Session } = require('inspector');\nnew Session().connect();\n`,
    }),
    expected: ({ major }) => boolDenial('Inspector', 'Connect', major >= 24 ? '--allow-inspector' : null),
  },
  {
    name: 'net-listen',
    what: 'net.createServer().listen(0) with no host: throws synchronously (closes again when not denied)',
    majors: [26],
    probe: true,
    files: () => ({
      'index.js': `const net = require('net');\nconst s = net.createServer();\n` + `s.listen(0, () => { console.log('listening'); s.close(); });\n`,
    }),
    expected: () => boolDenial('Net', '', '--allow-net'),
  },
  {
    name: 'net-listen-ip',
    what: "listen(0, '127.0.0.1'): NOT synchronous, thrown from a nextTick (uncaught exception)",
    majors: [26],
    probe: true,
    files: () => ({
      'index.js':
        `const net = require('net');\nconst s = net.createServer();\n` + `s.listen(0, '127.0.0.1', () => { console.log('listening'); s.close(); });\n`,
    }),
    expected: () => boolDenial('Net', '', '--allow-net'),
  },
  {
    name: 'net-listen-hostname',
    what: "listen(0, 'localhost'): 'error' event from the DNS lookup (getaddrinfo), not handled",
    majors: [26],
    probe: true,
    files: () => ({
      'index.js':
        `const net = require('net');\nconst s = net.createServer();\n` + `s.listen(0, 'localhost', () => { console.log('listening'); s.close(); });\n`,
    }),
    expected: () => ({
      block: { code: 'ERR_ACCESS_DENIED', permission: null, resource: null },
      extra: { syscall: 'getaddrinfo', hostname: 'localhost' },
      need: { flag: '--allow-net', resource: 'localhost' },
    }),
  },
  {
    name: 'net-connect-ip',
    what: "net.connect(9, '127.0.0.1'), 'error' event not handled",
    majors: [26],
    probe: true,
    files: () => ({ 'index.js': `require('net').connect(9, '127.0.0.1');\n` }),
    expected: () => ({
      // the outer error has no permission/resource; they are on the nested `errno` error
      block: { code: 'ERR_ACCESS_DENIED', permission: null, resource: null },
      nested: { key: 'errno', code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: '127.0.0.1' },
      need: { flag: '--allow-net', resource: '127.0.0.1' },
    }),
  },
  {
    name: 'net-dns',
    what: "dns.lookup('localhost', cb) where cb rethrows the error",
    majors: [26],
    probe: true,
    files: () => ({
      'index.js': `require('dns').lookup('localhost', (err, addr) => {\n  if (err) throw err;\n  console.log(addr);\n});\n`,
    }),
    expected: () => ({
      // no permission/resource at all: only code, syscall: 'getaddrinfo', hostname: 'localhost'
      block: { code: 'ERR_ACCESS_DENIED', permission: null, resource: null },
      extra: { syscall: 'getaddrinfo', hostname: 'localhost' },
      need: { flag: '--allow-net', resource: 'localhost' },
    }),
  },
  {
    name: 'fetch-ip',
    // not port 9: fetch refuses it before connecting ('bad port', a fetch-spec blocked port)
    what: "fetch('http://127.0.0.1:9999/'), rejection not handled",
    majors: [26],
    probe: true,
    files: () => ({ 'index.js': `fetch('http://127.0.0.1:9999/');\n` }),
    expected: () => ({
      // TypeError: fetch failed, [cause]: connect error, whose errno carries permission/resource
      block: { code: null, permission: null, resource: null },
      nested: { key: 'errno', code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: '127.0.0.1' },
      need: { flag: '--allow-net', resource: '127.0.0.1' },
    }),
  },
  {
    name: 'fsync',
    what: 'fs.fsyncSync on a file the app may write (granted): fsync itself is always denied',
    files: ({ dir }) => ({
      'index.js': `const fs = require('fs');\nconst fd = fs.openSync(${js(dir + '/out.txt')}, 'w');\nfs.fsyncSync(fd);\n`,
    }),
    grants: ({ dir }) => [`--allow-fs-write=${dir}/out.txt`],
    expected: () => ({
      block: { code: 'ERR_ACCESS_DENIED', permission: '', resource: '' },
      need: { flag: null, resource: null }, // cannot be granted
    }),
  },
  {
    name: 'symlink',
    what: 'fs.symlinkSync(target, link) with read granted on target and write on link',
    files: ({ dir }) => ({
      'index.js': `const fs = require('fs');\nfs.symlinkSync(${js(dir + '/target.txt')}, ${js(dir + '/link.txt')});\n`,
      'target.txt': 't\n',
    }),
    grants: ({ dir }) => [`--allow-fs-read=${dir}/target.txt`, `--allow-fs-write=${dir}/link.txt`],
    expected: () => ({
      block: { code: 'ERR_ACCESS_DENIED', permission: '', resource: '' },
      need: { flag: '--allow-fs-read=* and --allow-fs-write=*', resource: null },
    }),
  },
  ...[
    ['resource-quote-single', "it's.txt"],
    ['resource-quote-single-double', `it's "x".txt`],
    ['resource-quote-all-three', 'a\'b"c`d.txt'],
    ['resource-backslash', 'back\\slash.txt'],
    ['resource-newline', 'new\nline.txt'],
    ['resource-control', 'tab\there\x07\x1b.txt'],
    ['resource-non-ascii', 'ü€😀.txt'],
    ['resource-space', 'with space.txt'],
  ].map(([name, file]) => ({
    name,
    group: 'resource-quotes',
    what: `readFileSync of <app>/${js(file)} (file does not exist; the check comes first)`,
    files: ({ dir }) => ({ 'index.js': `const fs = require('fs');\nfs.readFileSync(${js(dir + '/' + file)});\n` }),
    expected: () => fsRead(`${APP}/${file}`),
  })),
  {
    name: 'denial-then-app-output',
    what: 'the app writes to stderr (text and an inspected object) before an uncaught read denial',
    files: ({ dir }) => ({
      'index.js':
        `const fs = require('fs');\n` +
        `console.error('app: starting up');\n` +
        `console.error({ status: 'booting', port: 3000, resource: 'not-this-one' });\n` +
        `console.error('app: reading config');\n` +
        `fs.readFileSync(${js(dir + '/config.json')});\n`,
      'config.json': '{}\n',
    }),
    expected: () => fsRead(`${APP}/config.json`),
  },
  {
    name: 'worker-uncaught',
    // The file is outside the app dir on purpose: on 22/24/26 a Worker may read the whole cwd
    // subtree without any grant (see observations.worker-cwd-read in index.json).
    what: 'a Worker (allowed) reads /etc/hostname (not granted) and does not catch; main has no error handler',
    files: ({ dir }) => ({
      'index.js': `const { Worker } = require('worker_threads');\nnew Worker(${js(dir + '/w.js')});\n`,
      'w.js': `require('fs').readFileSync('/etc/hostname');\n`,
    }),
    grants: ({ dir }) => ['--allow-worker', `--allow-fs-read=${dir}/w.js`],
    expected: () => fsRead('/etc/hostname'),
  },
  {
    name: 'caught-and-logged',
    what: 'the app catches the denial, console.error(err), process.exit(1)',
    files: ({ dir }) => ({
      'index.js':
        `const fs = require('fs');\ntry {\n  fs.readFileSync(${js(dir + '/secret.txt')});\n} catch (err) {\n` +
        `  console.error(err);\n  process.exit(1);\n}\n`,
      'secret.txt': 'secret\n',
    }),
    expected: () => fsRead(`${APP}/secret.txt`),
  },
  {
    name: 'node20-duplicate-grant',
    what: 'the entry file granted twice (--allow-fs-read=<entry> twice); 20 aborts at startup',
    majors: [20],
    probe: true,
    files: () => ({ 'index.js': `console.log('ok');\n` }),
    grants: ({ dir }) => [`--allow-fs-read=${dir}/index.js`, `--allow-fs-read=${dir}/index.js`],
    noAutoEntryGrant: true, // on 20 the case itself passes the entry grant (twice)
    expected: () => ({
      block: null, // no property block: a C++ assertion, SIGABRT
      abort: { signal: 'SIGABRT', assertion: '!path_prefix.empty()' },
      need: { flag: null, resource: null, fix: 'remove the duplicate grant' },
    }),
  },
];

// Observations: small probes whose stdout (one JSON line) is recorded in index.json, as evidence for
// behaviour that the captures depend on.
const observations = [
  {
    name: 'worker-cwd-read',
    what:
      'main (cwd = app dir) starts a Worker with --allow-worker --allow-fs-read=<app>/w.js; main and worker ' +
      'each call has() and readFileSync on <app>/data/secret.txt, which is NOT granted',
    files: ({ dir }) => ({
      'index.js':
        `const fs = require('fs');\nconst { Worker } = require('worker_threads');\n` +
        `const f = ${js(dir + '/data/secret.txt')};\n` +
        `const probe = () => { try { fs.readFileSync(f); return 'read ok'; } catch (e) { return e.code + ' ' + e.permission; } };\n` +
        `const main = { has: process.permission.has('fs.read', f), read: probe() };\n` +
        `new Worker(${js(dir + '/w.js')}, { workerData: f }).on('message', (worker) => console.log(JSON.stringify({ main, worker })));\n`,
      'w.js':
        `const fs = require('fs');\nconst { parentPort, workerData: f } = require('worker_threads');\n` +
        `let read; try { fs.readFileSync(f); read = 'read ok'; } catch (e) { read = e.code + ' ' + e.permission; }\n` +
        `parentPort.postMessage({ has: process.permission.has('fs.read', f), hasCwdSibling: process.permission.has('fs.read', process.cwd() + '/anything/else'), hasParentOfCwd: process.permission.has('fs.read', require('path').dirname(process.cwd()) + '/x'), read });\n`,
      'data/secret.txt': 'secret\n',
    }),
    grants: ({ dir }) => ['--allow-worker', `--allow-fs-read=${dir}/w.js`],
  },
];

// Audit mode (24/26): a --require preload subscribes to every node:permission-model:* channel and
// writes one JSON line per message to fd 3.
const auditChannels = ['fs', 'child', 'worker', 'wasi', 'inspector', 'addon', 'openssl-store', 'net', 'ffi'];
const auditPreload = `'use strict';
const dc = require('node:diagnostics_channel');
const fs = require('node:fs');
for (const channel of ${JSON.stringify(auditChannels)}) {
  dc.subscribe('node:permission-model:' + channel, (msg) => {
    const line = { channel, permission: msg && msg.permission, resource: msg && msg.resource, cwd: process.cwd() };
    if (Buffer.isBuffer(line.resource)) line.resource = line.resource.toString();
    fs.writeSync(3, JSON.stringify(line) + '\\n');
  });
}
`;
const auditCases = [
  {
    name: 'require',
    what: "require('./lib/a') of a local module",
    files: () => ({ 'index.js': `require('./lib/a');\nconsole.log('done');\n`, 'lib/a.js': `module.exports = 1;\n` }),
  },
  {
    name: 'read-hostname',
    what: "fs.readFileSync('/etc/hostname')",
    files: () => ({ 'index.js': `require('fs').readFileSync('/etc/hostname');\nconsole.log('done');\n` }),
  },
  {
    name: 'spawn',
    what: "execSync('true') and execFileSync('true')",
    files: () => ({
      'index.js': `const cp = require('child_process');\ncp.execSync('true');\ncp.execFileSync('true');\nconsole.log('done');\n`,
    }),
  },
  {
    name: 'worker',
    what: 'new Worker(<app>/w.js); the worker reads <app>/secret.txt (inside the cwd) and then /etc/hostname',
    files: ({ dir }) => ({
      'index.js': `const { Worker } = require('worker_threads');\n` + `new Worker(${js(dir + '/w.js')}).on('exit', () => console.log('done'));\n`,
      'w.js': `const fs = require('fs');\nfs.readFileSync(${js(dir + '/secret.txt')});\nfs.readFileSync('/etc/hostname');\n`,
      'secret.txt': 'secret\n',
    }),
  },
];

// ---------------------------------------------------------------------------------------------

function makeApp() {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'permlearn-capture-')));
  return dir;
}

function writeFiles(dir, files) {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

function sanitizer(dir, bin) {
  const binPaths = [...new Set([bin, fs.realpathSync(bin)])];
  return (text) => {
    let out = text;
    for (const b of binPaths) out = out.split(b).join(EXEC);
    out = out.split(dir).join(APP);
    out = out.replace(/\(node:\d+\)/g, '(node:<pid>)').replace(/\(node:\d+, thread /g, '(node:<pid>, thread ');
    // C++ assertion header: `<argv0>[PID]: ...`
    out = out.replace(/(node|<execPath>)\[\d+\]/g, '$1[<pid>]');
    // Native stack frames in shared libraries (libc ...) have ASLR addresses that change every run
    out = out.replace(/^(\s*\d+: )0x[0-9a-f]+(?=\s.*\[\/[^\]]*\]$)/gm, '$10x<addr>');
    return out;
  };
}

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('NODE_') || k === 'FORCE_COLOR') delete env[k];
  env.NO_COLOR = '1';
  return env;
}

function enableFlag(major) {
  return major === 20 ? '--experimental-permission' : '--permission';
}

function versionOf(bin) {
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

// Checks the capture against the expectation with plain string searches (not a parser):
// each expected property must appear as `  key: <util.inspect(value)>` at some indentation.
function check(stderr, exp, status, signal) {
  const problems = [];
  const hasLine = (key, value, indent) => {
    const want = `${key}: ${util.inspect(value)}`;
    return stderr.split('\n').some((l) => l.trim().replace(/,$/, '') === want && (indent == null || l.startsWith(' '.repeat(indent) + want)));
  };
  if (exp.abort) {
    if (signal !== exp.abort.signal) problems.push(`signal ${signal}, expected ${exp.abort.signal}`);
    if (!stderr.includes(exp.abort.assertion)) problems.push(`assertion text missing`);
    return problems.length ? problems : 'ok';
  }
  if (status !== 1) problems.push(`exit ${status} (signal ${signal}), expected 1`);
  for (const key of ['code', 'permission', 'resource']) {
    const v = exp.block[key];
    if (v === null) {
      if (stderr.split('\n').some((l) => /^ {2}\S/.test(l) && l.trim().startsWith(`${key}:`))) problems.push(`top-level ${key} present, expected absent`);
    } else if (!hasLine(key, v, 2)) problems.push(`missing "  ${key}: ${util.inspect(v)}"`);
  }
  if (exp.nested) {
    for (const key of ['code', 'permission', 'resource'])
      if (!hasLine(key, exp.nested[key])) problems.push(`nested ${key} ${util.inspect(exp.nested[key])} missing`);
  }
  if (exp.extra) for (const [k, v] of Object.entries(exp.extra)) if (!hasLine(k, v)) problems.push(`missing ${k}: ${util.inspect(v)}`);
  return problems.length ? problems : 'ok';
}

function firstErrorLine(stderr) {
  return stderr.split('\n').find((l) => /^\[?\w*Error\b/.test(l)) ?? null;
}

function runCase(c, major, bin, version) {
  const dir = makeApp();
  try {
    const ctx = { dir, major };
    const files = c.files(ctx);
    writeFiles(dir, files);
    const entry = c.entry ?? 'index.js';
    const args = [enableFlag(major)];
    if (major === 20 && !c.noAutoEntryGrant) args.push(`--allow-fs-read=${path.join(dir, entry)}`);
    args.push(...(c.grants ? c.grants(ctx) : []), entry);
    const r = spawnSync(bin, args, { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    const clean = sanitizer(dir, bin);
    const sanitizedFiles = Object.fromEntries(Object.entries(files).map(([k, v]) => [clean(k), clean(v)]));
    return {
      argv: [EXEC, ...args.map(clean)],
      files: sanitizedFiles,
      status: r.status,
      signal: r.signal,
      stdout: clean(r.stdout ?? ''),
      stderr: clean(r.stderr ?? ''),
      timedOut: r.error?.code === 'ETIMEDOUT',
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runAudit(c, major, bin) {
  const dir = makeApp();
  try {
    const ctx = { dir, major };
    const files = { ...c.files(ctx), 'audit-preload.cjs': auditPreload };
    writeFiles(dir, files);
    const args = ['--permission-audit', '--require', path.join(dir, 'audit-preload.cjs'), 'index.js'];
    const r = spawnSync(bin, args, { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const clean = sanitizer(dir, bin);
    return {
      argv: [EXEC, ...args.map(clean)],
      status: r.status,
      signal: r.signal,
      stdout: clean(r.output?.[1] ?? ''),
      stderr: clean(r.output?.[2] ?? ''),
      events: clean(r.output?.[3] ?? ''),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const requested = process.argv.slice(2).map(Number);
const majors = requested.length ? requested : allMajors;
const indexPath = path.join(outRoot, 'index.json');
let previous = { captures: [], skipped: [], audit: [], observations: [] };
if (requested.length && fs.existsSync(indexPath)) previous = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
const keep = (list) => (list ?? []).filter((e) => !majors.includes(e.major));
const index = {
  generatedBy: 'scripts/capture-denials.mjs',
  note:
    'stderr of real Node builds run under the Permission Model. Sanitised: the temp app dir is /APP, ' +
    'the node binary is <execPath>, PIDs are <pid>. `expected` is written from the snippet, not parsed ' +
    'from the output; `check` is a plain string comparison of the two. block.* = null means the ' +
    'property line is absent from the top-level { } block.',
  findings: [
    'Property block: every top-level block is `{` at the end of the last stack line, then one property per line ' +
      'indented by exactly 2 spaces (`  code: ...,`), a comma after every line but the last, and `}` alone at column 0. ' +
      'Same in 20/22/24/26, and the same when the app itself does console.error(err) (caught-and-logged).',
    'Values are util.inspect strings: single quotes by default; "..." if the value contains a single quote; `...` if it ' +
      "contains both single and double quotes; '...\\'...' if it contains all three; \\\\, \\n, \\t, \\x07, \\x1B escapes; non-ASCII raw UTF-8.",
    'Net (26): the top-level block of connect/fetch errors has NO permission/resource. connect: nested `errno: Error: ... {` ' +
      'block at 4-space indentation, closed by `  },`. fetch: `[TypeError: fetch failed] {` then `  [cause]: Error: connect ...` ' +
      'with its errno block at 6 spaces. DNS (dns.lookup, listen on a host name): only errno: undefined, code, syscall: ' +
      "'getaddrinfo', hostname.",
    "addon: the block is only `  code: 'ERR_DLOPEN_DISABLED'` (no permission/resource). A garbage file named *.node is " +
      'enough (no real addon needed), and the .node file needs no read grant (dlopen is refused before anything reads it).',
    "22 inspector header ends with a trailing space ('...restricted. '); 20 has no period ('...restricted'); 24/26 add " +
      "'Use --allow-inspector to manage permissions.'",
    'On 20 the ExperimentalWarning (2 lines) precedes the error block only when the denial is asynchronous ' +
      '(fs-read-async-unhandled, esm-import, worker-uncaught); synchronous denials exit before it is printed.',
    "fetch to port 9 fails with 'bad port' before any permission check (fetch-spec blocked port), so fetch-ip uses 9999.",
    "net listen (26): listen(0) throws synchronously (listen(unix path) too, in a manual test); listen(0, '127.0.0.1') throws from a nextTick " +
      "(not catchable around listen()); listen(0, 'localhost') emits 'error' (getaddrinfo ERR_ACCESS_DENIED).",
    'Worker (22/24/26, not 20): a Worker can read the whole subtree of the process cwd without any grant when there is an ' +
      'entry file (see observations worker-cwd-read). Denials inside a Worker therefore only happen outside the cwd, and ' +
      'audit mode publishes nothing for worker reads inside the cwd (audit-worker: no event for <app>/w.js or <app>/secret.txt).',
    'Node 20 duplicate grant: SIGABRT (spawnSync status null, signal SIGABRT; a shell would report 134). The assertion header ' +
      'names argv[0] (here the full binary path, sanitised to <execPath>[<pid>]), not the literal word node.',
  ],
  auditNotes: [
    'Preload via --require <app>/audit-preload.cjs, events on fd 3; stdout/stderr otherwise clean (no warnings) in 24 and 26.',
    'The entry file and the --require preload are never published (granted automatically). The first event is the ' +
      'package-scope lookup of the app directory (/APP): once in 24, twice in 26.',
    "execSync('true') publishes child '/bin/sh'; execFileSync('true') publishes child 'true'. Both run (exit 0).",
    "new Worker publishes worker '' and a spurious inspector '' (24 and 26). The preload is loaded again in the worker " +
      '(its /APP package-scope events and /etc/hostname are seen).',
    'message keys: permission and resource only are recorded (drop is always undefined).',
  ],
  versions: {},
  captures: keep(previous.captures),
  skipped: keep(previous.skipped),
  audit: keep(previous.audit),
  observations: keep(previous.observations),
};
let failures = 0;

for (const major of majors) {
  const bin = nodeBinary(major);
  const version = versionOf(bin);
  index.versions[major] = version;
  const dirOut = path.join(outRoot, `node${major}`);
  fs.rmSync(dirOut, { recursive: true, force: true });
  fs.mkdirSync(dirOut, { recursive: true });

  for (const c of cases) {
    const supported = !c.majors || c.majors.includes(major);
    if (!supported && !c.probe) {
      index.skipped.push({ major, version, case: c.name, reason: 'not producible on this version' });
      continue;
    }
    const r = runCase(c, major, bin, version);
    if (!supported) {
      // Probe: run the same snippet to record what happens instead of a denial.
      const denied = /ERR_ACCESS_DENIED|Assertion failed/.test(r.stderr);
      index.skipped.push({
        major,
        version,
        case: c.name,
        reason: denied ? 'UNEXPECTED: a denial happened' : 'not producible on this version (probed: no denial)',
        probe: { argv: r.argv, exit: r.status, signal: r.signal, stdout: r.stdout.trim() || undefined, firstErrorLine: firstErrorLine(r.stderr) },
      });
      if (denied) failures++;
      continue;
    }
    const file = `node${major}/${c.name}.stderr`;
    fs.writeFileSync(path.join(outRoot, file), r.stderr);
    const expected = c.expected({ major });
    const result = r.timedOut ? ['timed out'] : check(r.stderr, expected, r.status, r.signal);
    if (result !== 'ok') failures++;
    index.captures.push({
      file,
      major,
      version,
      case: c.name,
      ...(c.group ? { group: c.group } : {}),
      what: c.what,
      argv: r.argv,
      files: r.files,
      exit: r.status,
      signal: r.signal,
      expected,
      check: result,
    });
    console.log(`${file}: exit ${r.status}${r.signal ? ' ' + r.signal : ''} check ${result === 'ok' ? 'ok' : JSON.stringify(result)}`);
  }

  for (const o of observations) {
    const r = runCase(o, major, bin, version);
    let result;
    try {
      result = JSON.parse(r.stdout.trim().split('\n').pop());
    } catch {
      result = { stdout: r.stdout, stderrFirstError: firstErrorLine(r.stderr) };
    }
    index.observations.push({ major, version, case: o.name, what: o.what, argv: r.argv, exit: r.status, result });
    console.log(`observation ${o.name} on ${major}: ${JSON.stringify(result)}`);
  }

  if (major >= 24) {
    for (const a of auditCases) {
      const r = runAudit(a, major, bin);
      const file = `node${major}/audit-${a.name}.ndjson`;
      fs.writeFileSync(path.join(outRoot, file), r.events);
      const events = r.events
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const distinct = [...new Set(events.map((e) => `${e.channel} ${e.permission} ${JSON.stringify(e.resource)}`))];
      index.audit.push({
        file,
        major,
        version,
        case: `audit-${a.name}`,
        what: a.what,
        argv: r.argv,
        stdio: "['ignore', 'pipe', 'pipe', 'pipe'], events on fd 3",
        exit: r.status,
        signal: r.signal,
        stdout: r.stdout.trim() || undefined,
        stderr: r.stderr.trim() || undefined,
        eventCount: events.length,
        distinct,
      });
      console.log(`${file}: exit ${r.status} ${events.length} events`);
    }
  }
}

const order = (a, b) => a.major - b.major || (a.file ?? a.case).localeCompare(b.file ?? b.case);
index.captures.sort(order);
index.skipped.sort(order);
index.audit.sort(order);
index.observations.sort(order);
index.versions = Object.fromEntries(
  [...new Set([...index.captures, ...index.skipped, ...index.audit].map((e) => e.major))]
    .sort((a, b) => a - b)
    .map((m) => [m, [...index.captures, ...index.skipped, ...index.audit].find((e) => e.major === m).version]),
);
fs.mkdirSync(outRoot, { recursive: true });
fs.writeFileSync(indexPath, JSON.stringify(index, null, 2) + '\n');
console.log(`wrote ${path.relative(root, indexPath)}; ${failures} check failure(s)`);
process.exitCode = failures ? 1 : 0;
