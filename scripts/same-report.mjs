#!/usr/bin/env node
// Check: does a recorder change leave what permlearn reads the same? Runs fixtures/apps/express-service
// (its Worker and its Node child included) once with each of two recorders and compares the parsed
// reports (the app's channel and the children's report files, each checked with its key), pids, times
// and the temporary folder blanked. Prints "identical" or "DIFFERENT" (both reports then go to
// $TMPDIR/same-report-a.json and -b.json). Asserts nothing.
// Usage: node scripts/same-report.mjs <major> <observe|learning|denied|audit> <recorder A> <recorder B>
// A recorder is `current` (this checkout's, bundled by runner/session.ts) or a bundle file without its
// config line (what BASELINE of bench-recorder.mjs builds). `learning` grants everything, `denied`
// denies the app's own log folder, `audit` (24+) runs with --permission-audit.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './setup.mjs';

const { nodeBinary } = await import('@permlearn/test-nodes');
const { recorderText } = await import('../packages/core/dist/runner/session.js');
const { createKeys, keyPipeText, tokenVerifier, addChildReports } = await import('../packages/core/dist/runner/evidence.js');
const { parseRecorderReport } = await import('../packages/core/dist/model/parse-events.js');
const [major, mode, srcA, srcB] = [Number(process.argv[2]), process.argv[3], process.argv[4], process.argv[5]];
async function report(src) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pl-same-'));
  const dir = path.join(tmp, 'app');
  cpSync(path.join(root, 'fixtures/apps/express-service'), dir, { recursive: true });
  const events = path.join(tmp, 'events');
  mkdirSync(events);
  const config = { fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events, observe: mode === 'observe' };
  const rec = path.join(tmp, 'rec.cjs');
  writeFileSync(rec, src === 'current' ? recorderText(config) : `const PERMLEARN_CONFIG = ${JSON.stringify(config)};\n${readFileSync(src, 'utf8')}`);
  const keys = createKeys();
  const keyFile = path.join(tmp, 'key');
  writeFileSync(keyFile, keyPipeText(keys));
  const enable = major === 20 ? '--experimental-permission' : '--permission';
  const grants =
    mode === 'denied'
      ? [`--allow-fs-read=${dir}`, `--allow-fs-read=${rec}`, `--allow-fs-write=${events}`, '--allow-child-process', '--allow-worker']
      : [`--allow-fs-read=${tmp}`, `--allow-fs-write=${tmp}`, '--allow-child-process', '--allow-worker', ...(major >= 26 ? ['--allow-net'] : [])];
  const args = [...(mode === 'audit' ? ['--permission-audit'] : [enable]), ...(mode === 'audit' ? [] : grants), '--require', rec, 'server.js', '0'];
  let main = '';
  await new Promise((res) => {
    const c = spawn(nodeBinary(major), args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore', 'pipe', openSync(keyFile, 'r')],
      env: { ...process.env, PERMLEARN_RECORDER_KEY: undefined },
    });
    c.stdio[3].on('data', (d) => (main += d));
    c.stdout.on('data', (d) => {
      if (String(d).includes('listening')) setTimeout(() => c.kill('SIGTERM'), 300);
    });
    c.on('exit', res);
  });
  const r = parseRecorderReport(main, { verify: tokenVerifier(keys.main) });
  const out = addChildReports(events, keys.child, r);
  const text = JSON.stringify(out, (k, v) => (['time', 'pid', 'last', 'at', 'firstAt', 'lastTime'].includes(k) ? 0 : v))
    .split(tmp)
    .join('TMP');
  rmSync(tmp, { recursive: true, force: true });
  return text;
}
const a = await report(srcA);
const b = await report(srcB);
if (a === b) console.log(major, mode, 'identical', a.length);
else {
  console.log(major, mode, 'DIFFERENT', a.length, b.length);
  const ja = JSON.parse(a),
    jb = JSON.parse(b);
  writeFileSync(path.join(os.tmpdir(), 'same-report-a.json'), JSON.stringify(ja, null, 1));
  writeFileSync(path.join(os.tmpdir(), 'same-report-b.json'), JSON.stringify(jb, null, 1));
}
