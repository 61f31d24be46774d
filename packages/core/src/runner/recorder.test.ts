// The recorder inside real Node processes: it reports caught denials on every version and leaves
// the app's output and its view of the fs module unchanged.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';
import { parseRecorderReport } from '../model/parse-events.js';
import { createKeys, keyPipeText, tokenVerifier } from './evidence.js';
import { recorderText } from './session.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pl-recorder-'));
const recorder = path.join(dir, 'recorder.cjs');
writeFileSync(recorder, recorderText({ fd: 3, keyFd: 4, ownerPid: process.pid }));
// The recorder reads the run's key from fd 4 (a file holding it here; a pipe under permlearn).
const keys = createKeys();
const keyFile = path.join(dir, 'key');
writeFileSync(keyFile, keyPipeText(keys));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(major: number, entry: string, flags: string[], withRecorder: boolean) {
  const preload = withRecorder ? [`--allow-fs-read=${recorder}`, '--require', recorder] : [];
  const r = spawnSync(nodeBinary(major), [...flags, ...preload, entry], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')], encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, report: parseRecorderReport(String(r.output[3] ?? ''), { verify: tokenVerifier(keys.main) }) };
}

const enable = (major: number) => (major === 20 ? '--experimental-permission' : '--permission');

describe('recorder', () => {
  it.each([20, 22, 24, 26])('reports a denial the app catches in a callback, a promise and a sync call (Node %i)', (major) => {
    const entry = path.join(dir, `caught-${major}.js`);
    writeFileSync(
      entry,
      `const fs = require('fs');
fs.readFile('/etc/hostname', (err) => { if (!err) process.exit(3); });
fs.promises.readFile('/etc/passwd').catch(() => {});
try { fs.statSync('/etc/hosts'); } catch {}
`,
    );
    const grants = major === 20 ? [`--allow-fs-read=${entry}`] : [];
    const r = run(major, entry, [enable(major), ...grants], true);
    expect(r.status).toBe(0);
    const seen = r.report.denials.filter((d) => d.source === (major >= 24 ? 'channel' : 'caught')).map((d) => d.resource);
    expect(seen).toEqual(expect.arrayContaining(['/etc/hostname', '/etc/passwd', '/etc/hosts']));
    for (const d of r.report.denials.filter((x) => x.resource.startsWith('/etc/'))) expect(d.site).toContain(entry);
  });

  it.each([20, 22, 26])('changes nothing the app can see of fs or of its own output (Node %i)', (major) => {
    const entry = path.join(dir, `shape-${major}.js`);
    writeFileSync(
      entry,
      `const fs = require('fs'); const util = require('util');
const facts = {
  name: fs.readFileSync.name,
  native: typeof fs.realpathSync.native,
  existsCustom: typeof fs.exists[util.promisify.custom],
  readCustom: typeof fs.read[util.promisify.custom],
  keys: Object.keys(fs).length,
  promiseKeys: Object.keys(fs.promises).length,
};
util.promisify(fs.exists)(__filename).then((exists) => {
  console.log(JSON.stringify({ ...facts, exists }));
  console.error('to stderr');
});
`,
    );
    const flags = [enable(major), ...(major === 20 ? [`--allow-fs-read=${entry}`] : [])];
    const without = run(major, entry, flags, false);
    const withRec = run(major, entry, flags, true);
    expect(withRec.status).toBe(0);
    expect(withRec.stdout).toBe(without.stdout);
    const noPid = (text: string) => text.replace(/\(node:\d+\)/g, '(node:PID)');
    expect(noPid(withRec.stderr)).toBe(noPid(without.stderr));
    expect(JSON.parse(withRec.stdout)).toMatchObject({ name: 'readFileSync', native: 'function', existsCustom: 'function', exists: true });
  });
});
