// The recorder protocol's contract: a fixture app that makes the recorder (an observe run's, with a
// drop file) write every kind of message in model/recorder-protocol.ts, in real Node; the parser
// accounts for every line (nothing forged, nothing junk) and sees every kind.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeBinary } from '@permlearn/test-nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageKind, parseRecorderReport } from '../../packages/core/src/model/parse-events.js';
import { RECORDER_MESSAGE_KINDS } from '../../packages/core/src/model/recorder-protocol.js';
import { createKeys, keyPipeText, tokenVerifier } from '../../packages/core/src/runner/evidence.js';
import { recorderText } from '../../packages/core/src/runner/session.js';

describe('every recorder message kind, written by the real recorder and parsed', () => {
  let dir: string;
  let recorder: string;
  let entry: string;
  let keyFile: string;
  const keys = createKeys();

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-contract-')));
    const dropFile = path.join(dir, 'drops.json');
    writeFileSync(dropFile, '[]');
    recorder = path.join(dir, 'recorder.cjs');
    writeFileSync(recorder, recorderText({ fd: 3, ownerPid: process.pid, keyFd: 4, observe: true, dropFile }));
    keyFile = path.join(dir, 'key');
    writeFileSync(keyFile, keyPipeText(keys));
    mkdirSync(path.join(dir, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(path.join(dir, 'node_modules', 'dep', 'package.json'), '{"name":"dep","main":"index.js"}');
    writeFileSync(path.join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
    writeFileSync(path.join(dir, 'data.txt'), 'x');
    entry = path.join(dir, 'app.js');
    writeFileSync(
      entry,
      [
        "const fs = require('fs');",
        "require('dep');", // load, probe
        "fs.readFileSync(__dirname + '/data.txt');", // touch
        "fs.readFileSync(__dirname + '/data.txt');", // hits
        "fs.existsSync(__dirname + '/absent.txt');", // miss
        "fs.statSync(__dirname + '/node_modules'); fs.readdirSync(__dirname + '/node_modules');", // list (after a stat of the same folder)
        "require('child_process').execFileSync(process.execPath, ['-e', '0']);", // use
        "new (require('worker_threads').Worker)('0', { eval: true, execArgv: [] });", // unbound
        "try { fs.writeFileSync(__dirname + '/out.txt', 'x'); } catch {}", // denial
        'setTimeout(() => {}, 300);', // dropped (the recorder polls every 20 ms), then exit
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([22, 26])('Node %i', (major) => {
    const r = spawnSync(nodeBinary(major), ['--permission', '--allow-fs-read=*', '--allow-child-process', '--allow-worker', '--require', recorder, entry], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')],
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const text = (r.output[3] as string | null) ?? '';
    const verify = tokenVerifier(keys.main);
    const report = parseRecorderReport(text, { verify });
    expect({ junk: report.junk, forged: report.forged, oversized: report.oversized }).toEqual({ junk: 0, forged: 0, oversized: 0 });
    const kinds = new Set(
      text
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => messageKind(verify(line) ?? '')),
    );
    expect([...kinds].sort()).toEqual([...RECORDER_MESSAGE_KINDS].sort());
    // And each kind landed where the report keeps it.
    expect(report.loaded).toBe(true);
    expect(report.exitCode).toBe(0);
    expect(report.dropped).toMatchObject({ applied: 0 });
    expect(report.denials.filter((d) => d.permission === 'FileSystemWrite').map((d) => d.resource)).toEqual([path.join(dir, 'out.txt')]);
    expect(report.modules.map((m) => m.file)).toEqual([entry, path.join(dir, 'node_modules', 'dep', 'index.js')]);
    expect(report.probes.map((p) => p.file)).toContain(path.join(dir, 'node_modules', 'dep', 'package.json'));
    expect(report.touched.find((t) => t.file === path.join(dir, 'data.txt'))?.hits).toBe(2);
    expect(report.missing.map((m) => m.file)).toEqual([path.join(dir, 'absent.txt')]);
    expect(report.listed).toEqual([path.join(dir, 'node_modules')]);
    expect(report.uses).toEqual([expect.objectContaining({ scope: 'child', api: 'execFileSync', hits: 1, time: expect.any(Number) })]);
  });
});
