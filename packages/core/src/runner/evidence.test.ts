// The parser side of the signed channel, on lines the real recorder wrote in real Node: signed lines
// are read, forged, tampered, garbled and oversized ones are dropped and counted, and the limits hold.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';
import { parseRecorderReport, type RecorderReport } from '../model/parse-events.js';
import {
  addChildReports,
  createKeys,
  evidenceNotes,
  keyPipeText,
  MAX_LINE_CHARS,
  RECORDER_KEY_ENV,
  SignedLines,
  tagOf,
  tokenVerifier,
  verifierFor,
} from './evidence.js';
import { recorderText } from './session.js';

const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pl-evidence-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keys = createKeys();
const keyFile = path.join(dir, 'key');
writeFileSync(keyFile, keyPipeText(keys));
const events = path.join(dir, 'events');
mkdirSync(events);
const recorder = path.join(dir, 'recorder.cjs');
writeFileSync(recorder, recorderText({ fd: 3, keyFd: 4, ownerPid: process.pid, eventsDir: events }));
const entry = path.join(dir, 'app.js');
writeFileSync(
  entry,
  "const fs = require('fs');\ntry { fs.readFileSync('/etc/hostname'); } catch (err) { console.error(err.code); }\nfs.readFileSync('secret.txt');\n",
);

const enable = (major: number) => (major === 20 ? '--experimental-permission' : '--permission');
const grants = (major: number) => [`--allow-fs-read=${recorder}`, ...(major === 20 ? [`--allow-fs-read=${entry}`] : [])];

/** What the recorder wrote on fd 3 when run as permlearn runs the app (the key on fd 4). */
function channelOf(major: number): string {
  const r = spawnSync(nodeBinary(major), [enable(major), ...grants(major), '--require', recorder, entry], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')],
    encoding: 'utf8',
    timeout: 10_000,
  });
  expect(r.status).toBe(1);
  return String(r.output[3] ?? '');
}

const uncaught = (r: RecorderReport) => r.denials.filter((d) => d.source === 'uncaught').map((d) => [d.permission, d.resource]);

describe.each([20, 26])('lines the recorder signed (Node %i)', (major) => {
  const text = channelOf(major);
  const lines = text.split('\n').filter(Boolean);

  it('every line carries the run token and is read with it', () => {
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line.startsWith(`${keys.main} {`)).toBe(true);
    const r = parseRecorderReport(text, { verify: tokenVerifier(keys.main) });
    expect(r).toMatchObject({ loaded: true, forged: 0, oversized: 0, junk: 0, exitCode: 1 });
    expect(uncaught(r)).toEqual([['FileSystemRead', 'secret.txt']]);
  });

  it('read as it arrives, in chunks that split lines anywhere, the report is the one read from the whole text', () => {
    const whole = parseRecorderReport(text, { verify: tokenVerifier(keys.main) });
    const reader = new SignedLines(tokenVerifier(keys.main));
    for (let at = 0; at < text.length; at += 37) reader.add(text.slice(at, at + 37));
    reader.end();
    expect(reader.report()).toEqual(whole);
    expect(reader.report()).toBe(reader.report());
  });

  it('under another token nothing is read and every line is counted', () => {
    const r = parseRecorderReport(text, { verify: tokenVerifier(createKeys().main) });
    expect(r).toMatchObject({ loaded: false, denials: [], forged: lines.length });
    // Lines of the app's channel are not signed lines of a child's report.
    expect(parseRecorderReport(text, { verify: verifierFor(keys.child) })).toMatchObject({ loaded: false, forged: lines.length });
  });

  it('unsigned, garbled and oversized lines are counted, the signed ones still read', () => {
    const body = JSON.stringify({ t: 'denial', source: 'uncaught', thread: 'main', permission: 'FileSystemRead', resource: '/', code: 'ERR_ACCESS_DENIED' });
    const reader = new SignedLines(tokenVerifier(keys.main));
    const junk = [body, `${'A'.repeat(43)} ${body}`, lines[0]!.slice(0, 30), `${keys.main} ${'x'.repeat(MAX_LINE_CHARS + 10)}`];
    // Fed in odd-sized pieces, as a pipe delivers it.
    const all = `${[...junk, ...lines].join('\n')}\n`;
    for (let i = 0; i < all.length; i += 4093) reader.add(all.slice(i, i + 4093));
    reader.end();
    const r = reader.report();
    expect(r).toMatchObject({ forged: 3, oversized: 1, loaded: true });
    expect(uncaught(r)).toEqual([['FileSystemRead', 'secret.txt']]);
  });

  it('signed text beyond the limit is counted as dropped, and the note says the evidence is incomplete', () => {
    const reader = new SignedLines(tokenVerifier(keys.main), 200);
    reader.add(text);
    reader.end();
    expect(reader.dropped).toBeGreaterThan(0);
    expect(reader.text.length).toBeLessThanOrEqual(200);
    const notes = evidenceNotes({ forged: 0, forgedFiles: 0, forgedLines: 0, channelDropped: reader.dropped, cappedFiles: 0 });
    expect(notes).toEqual([
      `the recorder wrote more than 64 MB in one run; the rest (${reader.dropped} bytes) was not kept, so that run's evidence is incomplete`,
    ]);
  });
});

describe('child report files', () => {
  it('a Node child signs its file with the child key; forged files and folders are ignored and counted', () => {
    // A Node child of the app: another parent than permlearn, the child key in its environment.
    const other = path.join(dir, 'child-recorder.cjs');
    writeFileSync(other, recorderText({ fd: 3, ownerPid: process.pid + 1_000_000, eventsDir: events }));
    const child = path.join(dir, 'child.js');
    writeFileSync(child, "console.log(JSON.stringify(process.env.PERMLEARN_RECORDER_KEY ?? null)); require('fs').readFileSync('/etc/hostname');\n");
    const r = spawnSync(nodeBinary(26), ['--permission', `--allow-fs-read=${other}`, `--allow-fs-write=${events}`, '--require', other, child], {
      cwd: dir,
      env: { PATH: process.env.PATH, [RECORDER_KEY_ENV]: keys.child },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toBe('null'); // taken out of the environment before the app's code ran
    expect(readdirSync(events)).toEqual([`child-${r.pid}.ndjson`]);
    const body = JSON.stringify({ t: 'denial', source: 'uncaught', thread: 'child', permission: 'FileSystemRead', resource: '/', code: 'ERR_ACCESS_DENIED' });
    const genuine = `child-${r.pid}.ndjson`;
    const signedLines = readFileSync(path.join(events, genuine), 'utf8');
    expect(signedLines).toMatch(/^[A-Za-z0-9_-]{22} \{/);
    expect(signedLines).not.toContain(keys.child);
    // Forged files: unsigned, signed with the app's token or with a made-up key, a folder.
    writeFileSync(path.join(events, 'child-1.ndjson'), `${body}\n${keys.main} ${body}\n${tagOf('guess', body)} ${body}\n`);
    mkdirSync(path.join(events, 'child-2.ndjson'));
    // A signed line tampered with (its resource made `/`), appended to the genuine file, is dropped too.
    const line = signedLines.split('\n').find((l) => l.includes('"source":"uncaught"'))!;
    writeFileSync(path.join(events, genuine), `${signedLines}${line.replace('"resource":"/etc/hostname"', '"resource":"/"')}\n`);
    const into = parseRecorderReport('', { verify: () => undefined });
    const out = addChildReports(events, keys.child, into);
    expect(out).toMatchObject({ forgedFiles: 2, forgedLines: 1, cappedFiles: 0 });
    expect(into.denials.filter((d) => d.source === 'uncaught').map((d) => [d.permission, d.resource, d.thread])).toEqual([
      ['FileSystemRead', '/etc/hostname', 'child'],
    ]);
    expect(readdirSync(events)).toEqual([]);
    expect(evidenceNotes({ forged: 0, forgedFiles: 2, forgedLines: 0, channelDropped: 0, cappedFiles: 0 })).toEqual([
      '2 files in the events folder were not written by a recorder (ignored)',
    ]);
  });
});
