// The recorder and node:wasi on every line: however the app loads node:wasi (require, an ES module's
// named or default import, import(), process.getBuiltinModule), a WASI denial the app catches is
// reported as it leaves the constructor, and the recorder never loads node:wasi itself (which would
// print Node's experimental-feature warning into an app that does not use it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';
import { parseRecorderReport } from '../../packages/core/src/model/parse-events.js';
import { createKeys, keyPipeText, tokenVerifier } from '../../packages/core/src/runner/evidence.js';
import { recorderText } from '../../packages/core/src/runner/session.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pl-recorder-wasi-'));
const recorder = path.join(dir, 'recorder.cjs');
writeFileSync(recorder, recorderText({ fd: 3, keyFd: 4, ownerPid: process.pid }));
const keys = createKeys();
const keyFile = path.join(dir, 'key');
writeFileSync(keyFile, keyPipeText(keys));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(major: number, entry: string, withRecorder: boolean) {
  const flags = [major === 20 ? '--experimental-permission' : '--permission', `--allow-fs-read=${dir}`];
  const preload = withRecorder ? ['--require', recorder] : [];
  const r = spawnSync(nodeBinary(major), [...flags, ...preload, entry], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')],
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, report: parseRecorderReport(String(r.output[3] ?? ''), { verify: tokenVerifier(keys.main) }) };
}

// Each loads node:wasi one way, catches the denial and throws nothing Node made.
const START = `try { new WASI({ version: 'preview1' }); console.log('started'); } catch (err) { console.log('caught ' + err.code); }`;
const ways: [string, string, string][] = [
  ['require', 'cjs', `const { WASI } = require('node:wasi');\n${START}`],
  ['a named import', 'mjs', `import { WASI } from 'node:wasi';\n${START}`],
  ['a default import', 'mjs', `import wasi from 'node:wasi';\nconst { WASI } = wasi;\n${START}`],
  ['import() from an ES module', 'mjs', `const { WASI } = await import('node:wasi');\n${START}`],
  ['import() from CommonJS', 'cjs', `import('node:wasi').then(({ WASI }) => {\n${START}\n});`],
  ['process.getBuiltinModule', 'cjs', `const { WASI } = process.getBuiltinModule('node:wasi');\n${START}`],
];

const noPid = (text: string) => text.replace(/\(node:\d+\)/g, '(node:PID)');

describe.each([20, 22, 24, 26])('node:wasi under the recorder (Node %i)', (major) => {
  it.each(ways)('reports the WASI denial the app caught after loading node:wasi with %s', (name, ext, source) => {
    const entry = path.join(dir, `${name.replace(/\W+/g, '-')}-${major}.${ext}`);
    writeFileSync(entry, source);
    const r = run(major, entry, true);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('caught ERR_ACCESS_DENIED\n');
    // (24+ also publish it on the permission channel; that report takes the `via` of its twin.)
    const atSource = r.report.denials.filter((d) => d.via === 'WASI' && d.source === 'caught').map((d) => [d.permission, d.thread]);
    expect(atSource).toEqual([['WASI', 'main']]);
    // Node's own warning reaches the app as it would without the recorder.
    expect(noPid(r.stderr)).toBe(noPid(run(major, entry, false).stderr));
    expect(r.stderr).toMatch(/ExperimentalWarning: WASI is an experimental feature/);
  });

  it('loads no node:wasi of its own: an app that never uses it prints no WASI warning', () => {
    const entry = path.join(dir, `no-wasi-${major}.cjs`);
    writeFileSync(entry, `process.emitWarning('something else', 'ExperimentalWarning');\nconsole.log('done');`);
    const r = run(major, entry, true);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('done\n');
    expect(r.stderr).not.toMatch(/WASI/);
    expect(noPid(r.stderr)).toBe(noPid(run(major, entry, false).stderr));
  });
});
