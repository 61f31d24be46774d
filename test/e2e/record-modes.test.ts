// The record preload's modes beside the traffic tests of record.test.ts. Its repeat path keeps its
// cache for one working folder and does not ask process.cwd() on every check: it learns of a change
// through its process.chdir wrapper. A relative path read before and after a chdir is two needs, each
// counted under its own folder, in audit mode (26) and in observe mode (22, and 26 without
// --permission-audit). And `permlearn record --observe`: the JS API on a Node that has audit mode.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFixture, nodeBinary, removeCopies, root, runCli, runNode } from '../helpers/e2e.js';

afterAll(removeCopies);

const PRELOAD = path.join(root, 'packages', 'core', 'recorder', 'record.cjs');

/** The lines of the one record file in `recs`, without their signatures. */
function recordOf(recs: string): { t: string; [k: string]: unknown }[] {
  const files = readdirSync(recs).filter((n) => n.endsWith('.ndjson'));
  expect(files).toHaveLength(1);
  return readFileSync(path.join(recs, files[0]!), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))));
}

const APP = `'use strict';
const fs = require('fs');
fs.mkdirSync('sub', { recursive: true });
fs.writeFileSync('sub/a.txt', 'below');
fs.writeFileSync('a.txt', 'top');
for (let i = 0; i < 3; i++) fs.readFileSync('a.txt');
process.chdir('sub');
for (let i = 0; i < 5; i++) fs.readFileSync('a.txt');
process.chdir('..');
fs.readFileSync('a.txt');
`;

describe.each([
  [22, 'observe'],
  [26, 'audit'],
  [26, 'observe'],
] as const)('the record preload across process.chdir on Node %i (%s)', (major, mode) => {
  it('counts a relative path under the folder it was read in', async () => {
    const dir = copyFixture('services/only-config');
    writeFileSync(path.join(dir, 'chdir.js'), APP);
    const recs = path.join(dir, '..', 'recs');
    const flags = [...(mode === 'audit' ? ['--permission-audit'] : []), '--require', PRELOAD];
    const r = await runNode(major, flags, 'chdir.js', [], dir, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERMLEARN_RECORD: recs } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = recordOf(recs);
    expect(lines[0]).toMatchObject({ t: 'record', mode });
    const reads = lines
      .filter((e) => e.t === 'seen' && e.permission === 'FileSystemRead' && String(e.resource).endsWith('/a.txt'))
      .map(({ resource, cwd, count }) => ({ resource, cwd, count }));
    expect(reads).toEqual([
      { resource: `${dir}/a.txt`, cwd: dir, count: 4 },
      { resource: `${dir}/sub/a.txt`, cwd: `${dir}/sub`, count: 5 },
    ]);
  }, 60_000);
});

// More spellings than the repeat path's ring of recent ones (8 a scope): 12 files read and written in
// turn, and one read between each, so slots are replaced all along; every check is still counted once.
const MANY = `'use strict';
const fs = require('fs');
fs.mkdirSync('many', { recursive: true });
fs.writeFileSync('hot.txt', 'hot');
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < 12; i++) {
    fs.writeFileSync('many/f' + i + '.txt', String(round));
    fs.readFileSync('many/f' + i + '.txt');
    fs.readFileSync('hot.txt');
  }
}
`;

describe.each([
  [22, 'observe'],
  [26, 'audit'],
] as const)('the record preload with more hot paths than its ring on Node %i (%s)', (major, mode) => {
  it('counts every check of each of them', async () => {
    const dir = copyFixture('services/only-config');
    writeFileSync(path.join(dir, 'many.js'), MANY);
    const recs = path.join(dir, '..', 'recs');
    const flags = [...(mode === 'audit' ? ['--permission-audit'] : []), '--require', PRELOAD];
    const r = await runNode(major, flags, 'many.js', [], dir, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERMLEARN_RECORD: recs } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const counts = Object.fromEntries(
      recordOf(recs)
        .filter((e) => e.t === 'seen' && /\/(hot|f\d+)\.txt$/.test(String(e.resource)))
        .map((e) => [`${e.permission} ${path.relative(dir, String(e.resource))}`, e.count]),
    );
    const expected: Record<string, number> = { 'FileSystemWrite hot.txt': 1, 'FileSystemRead hot.txt': 60 };
    for (let i = 0; i < 12; i++) {
      expected[`FileSystemWrite many/f${i}.txt`] = 5;
      expected[`FileSystemRead many/f${i}.txt`] = 5;
    }
    expect(counts).toEqual(expected);
  }, 60_000);
});

// Observe mode's fs wrapper hands the app's arguments on as they were given (options, flags, callbacks,
// arity), and still counts each call under the scope its name or flags give: a hot loop of each form.
const FORMS = `'use strict';
const fs = require('fs');
fs.writeFileSync('a.txt', 'text');
const out = [];
out.push(fs.statSync('missing.txt', { throwIfNoEntry: false }) === undefined);
for (let i = 0; i < 3; i++) out.push(fs.readFileSync('a.txt', 'utf8'));
for (let i = 0; i < 2; i++) fs.closeSync(fs.openSync('b.txt', 'w'));
fs.closeSync(fs.openSync('a.txt', 'r'));
fs.readFile('a.txt', 'utf8', (err, text) => {
  out.push(err === null && text);
  fs.readFile('a.txt', (err2, buf) => {
    out.push(err2 === null && Buffer.isBuffer(buf));
    fs.promises.readFile('a.txt', { encoding: 'utf8' }).then((t) => {
      out.push(t);
      console.log(JSON.stringify(out));
    });
  });
});
`;

describe.each([22, 26] as const)('observe mode on Node %i: the fs calls as the app made them', (major) => {
  it('returns what plain node returns, and counts each call under its scope', async () => {
    const dir = copyFixture('services/only-config');
    writeFileSync(path.join(dir, 'forms.js'), FORMS);
    const recs = path.join(dir, '..', 'recs');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PERMLEARN_RECORD: recs };
    const r = await runNode(major, ['--require', PRELOAD], 'forms.js', [], dir, { env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(String(r.stdout))).toEqual([true, 'text', 'text', 'text', 'text', true, 'text']);
    const counts = Object.fromEntries(
      recordOf(recs)
        .filter((e) => e.t === 'seen' && /\/(a|b|missing)\.txt$/.test(String(e.resource)))
        .map((e) => [`${e.permission} ${path.relative(dir, String(e.resource))}`, e.count]),
    );
    expect(counts).toEqual({
      'FileSystemWrite a.txt': 1,
      'FileSystemRead missing.txt': 1,
      'FileSystemRead a.txt': 7,
      'FileSystemWrite b.txt': 2,
    });
  }, 60_000);
});

describe('permlearn record --observe', () => {
  it('records the JS API on Node 26 (no --permission-audit), and says what it could not see', async () => {
    const dir = copyFixture('services/only-config');
    const recs = path.join(dir, '..', 'recs');
    const r = await runCli(['record', '--observe', '--out', recs, '--', nodeBinary(26), 'app.js', 'greeting.txt'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^ok: only-config /);
    expect(r.stderr).toContain('recorded under Node v26.10.0 in observe mode (the JS API, as asked; see the records for what it cannot see)');
    const lines = recordOf(recs);
    expect(lines[0]).toMatchObject({ t: 'record', mode: 'observe', signed: true });
    expect(lines[0]!.unseen).toContain('started without --permission-audit, so Node published no checks: only the JS API was watched');
    expect(lines.filter((e) => e.t === 'seen').map((e) => [e.permission, e.resource, e.site])).toEqual([
      ['FileSystemRead', `${dir}/app.js`, undefined],
      ['FileSystemRead', `${dir}/greeting.txt`, `${dir}/app.js:7:17`],
    ]);
  }, 60_000);

  it('is refused beside --profile (one mode at a time): exit 2, one line', async () => {
    const dir = copyFixture('services/only-config');
    const r = await runCli(['record', '--observe', '--profile', 'p.json', '--', nodeBinary(26), 'app.js', 'greeting.txt'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).trim().split('\n')).toEqual([
      'permlearn: --observe records what the service uses, --profile what a profile denies: give one of them',
    ]);
  }, 30_000);
});
