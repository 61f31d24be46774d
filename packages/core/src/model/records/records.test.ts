import { describe, expect, it } from 'vitest';
import {
  compareWithRecords,
  describeSeenIn,
  mergeRecords,
  parseRecordFile,
  recordDenials,
  recordsCaveats,
  seenInRecords,
  type RecordLineCheck,
} from './index.js';
import { capabilitiesOf, parseNodeVersion } from '../node-versions.js';
import type { Grant } from '../grants.js';

const caps = capabilitiesOf(parseNodeVersion('v26.10.0')!);
const header = (pid: number, mode = 'audit') =>
  JSON.stringify({ t: 'record', v: 1, pid, node: 'v26.10.0', mode, main: '/app/server.js', cwd: '/app', started: 1000, unseen: [] });
const seen = (permission: string, resource: string, count: number, first: number, last: number, site?: string) =>
  JSON.stringify({ t: 'seen', permission, resource, count, first, last, cwd: '/app', ...(site ? { site } : {}) });

describe('record files', () => {
  it('parses a record, and a last line cut off mid-write is counted, not fatal', () => {
    const text = [header(1), seen('FileSystemRead', '/app/t.html', 5, 1100, 1900, '/app/server.js:3:4'), '{"t":"seen","permission":"FileSy'].join('\n');
    const f = parseRecordFile(text, 'r1');
    expect(f.entries).toEqual([
      { permission: 'FileSystemRead', resource: '/app/t.html', cwd: '/app', site: '/app/server.js:3:4', count: 5, first: 1100, last: 1900 },
    ]);
    expect(f.final).toBe(false);
    expect(f.invalid).toBe(1);
  });

  it('refuses what is not a record, and drops entries with relative paths or bad counts', () => {
    expect(() => parseRecordFile('{"hello":1}', 'x')).toThrow('x is not a permlearn record file');
    const f = parseRecordFile(
      [
        header(1),
        seen('FileSystemRead', 'relative.txt', 1, 1, 1),
        seen('ChildProcess', '/bin/sh', 0, 1, 1),
        JSON.stringify({ t: 'summary', flushed: 5, entries: 0, dropped: 3, final: true }),
      ].join('\n'),
      'r',
    );
    expect(f.entries).toEqual([]);
    expect(f.invalid).toBe(2);
    expect(f).toMatchObject({ final: true, dropped: 3, flushed: 5 });
  });

  it('merges several records: counts added, first/last widened, sites kept, seen-in counted', () => {
    const a = parseRecordFile([header(1), seen('FileSystemRead', '/app/t.html', 5, 1100, 1900, '/app/a.js:1:1')].join('\n'), 'a');
    const b = parseRecordFile(
      [header(2), seen('FileSystemRead', '/app/t.html', 2, 900, 1500, '/app/b.js:2:2'), seen('ChildProcess', '/bin/echo', 1, 2000, 2000)].join('\n'),
      'b',
    );
    const m = mergeRecords([a, b]);
    expect(m.entries.map((e) => [e.permission, e.resource, e.count, e.first, e.last, e.sites, e.seenIn])).toEqual([
      ['FileSystemRead', '/app/t.html', 7, 900, 1900, ['/app/a.js:1:1', '/app/b.js:2:2'], [0, 1]],
      ['ChildProcess', '/bin/echo', 1, 2000, 2000, [], [1]],
    ]);
    expect(recordDenials(m)[0]).toMatchObject({ source: 'channel', hits: 7, time: 900, lastTime: 1900, site: '/app/a.js:1:1' });
    expect(seenInRecords({ scope: 'child' }, m, caps)).toEqual({ runs: 1, of: 2, first: 2000, last: 2000 });
    expect(seenInRecords({ scope: 'fs.read', path: '/app', kind: 'dir' }, m, caps)).toEqual({ runs: 2, of: 2, first: 900, last: 1900 });
    expect(describeSeenIn(seenInRecords({ scope: 'child' }, m, caps))).toBe(
      'seen in 1 of 2 records, first 1970-01-01T00:00:02.000Z, last 1970-01-01T00:00:02.000Z',
    );
  });

  it('compares a profile with records: new needs with who asked, grants unused all along', () => {
    const m = mergeRecords([
      parseRecordFile(
        [header(1), seen('FileSystemWrite', '/app/up/x', 3, 1, 9, '/app/s.js:7:1'), seen('FileSystemRead', '/app/t.html', 1, 1, 1)].join('\n'),
        'a',
      ),
    ]);
    const grants: Grant[] = [
      { scope: 'fs.read', path: '/app/t.html', kind: 'file', denials: [], notes: [] },
      { scope: 'child', denials: [], notes: [] },
    ];
    const r = compareWithRecords(
      grants,
      m,
      caps,
      () => 'file',
      (g) => g.scope,
    );
    expect(r.newNeeds).toEqual([
      { permission: 'FileSystemWrite', resource: '/app/up/x', sites: ['/app/s.js:7:1'], count: 3, first: 1, last: 9, seenIn: 1, denied: false },
    ]);
    expect(r.unused).toEqual(['child']);
  });

  // A stand-in for the runner's HMAC: the tag is the file id and the body's length, padded to 22 characters.
  const tagOf = (fileId: string, body: string) => `${fileId}x${body.length}`.padEnd(22, '_').slice(0, 22);
  const check: RecordLineCheck = (fileId, tag, body) => tag === tagOf(fileId, body);
  const signed = (fileId: string, body: string) => `${tagOf(fileId, body)} ${body}`;

  it('with a key, keeps only lines that pass the check: a forged line appended is dropped and counted', () => {
    const id = '1-1000';
    const text = [
      signed(id, header(1)),
      signed(id, seen('FileSystemRead', '/app/t.html', 5, 1100, 1900)),
      seen('FileSystemRead', '/etc/shadow', 1, 1200, 1200),
      `${'A'.repeat(22)} ${seen('ChildProcess', '/bin/sh', 1, 1, 1)}`,
      signed(id, JSON.stringify({ t: 'summary', flushed: 2000, entries: 1, dropped: 0, final: true })),
    ].join('\n');
    const f = parseRecordFile(text, 'r', check);
    expect(f.entries.map((e) => e.resource)).toEqual(['/app/t.html']);
    expect(f).toMatchObject({ signed: true, verified: true, forged: 2, final: true });
    // Without a key the same file is read as it is, and says it was not checked.
    const unchecked = parseRecordFile(text, 'r');
    expect(unchecked.entries.map((e) => e.resource)).toEqual(['/app/t.html', '/etc/shadow', '/bin/sh']);
    expect(unchecked.verified).toBe(false);
    const m = mergeRecords([unchecked]);
    expect(recordsCaveats(m)).toEqual([
      '1 of 1 records was not checked against a key (none given: PERMLEARN_RECORD_KEY or <folder>.key), so anything that could write there could have added to them',
    ]);
  });

  it('with a key, refuses a record whose header fails (or is unsigned) and counts a copy of a record once', () => {
    const forgedFile = parseRecordFile([signed('9-9', header(1)), signed('1-1000', seen('ChildProcess', '/bin/sh', 1, 1, 1))].join('\n'), 'forged', check);
    expect(forgedFile).toMatchObject({ rejected: 'forged', entries: [] });
    const plain = parseRecordFile([header(1), seen('ChildProcess', '/bin/sh', 1, 1, 1)].join('\n'), 'plain', check);
    expect(plain).toMatchObject({ rejected: 'unsigned', entries: [] });
    const good = [signed('2-1000', header(2)), signed('2-1000', seen('FileSystemRead', '/app/a', 1, 5, 5))].join('\n');
    const m = mergeRecords([forgedFile, plain, parseRecordFile(good, 'good', check), parseRecordFile(good, 'copy', check)]);
    expect(m.files.map((f) => f.name)).toEqual(['good']);
    expect(m.entries.map((e) => [e.resource, e.count, e.seenIn])).toEqual([['/app/a', 1, [0]]]);
    expect(recordsCaveats(m)).toEqual([
      '2 record files failed the key check and were ignored: forged (forged), plain (unsigned)',
      '1 record file was a copy of another and counted once',
    ]);
  });

  it('says what came past a recorder cap, by permission and folder, and keeps the other call sites', () => {
    const summary = JSON.stringify({
      t: 'summary',
      flushed: 9,
      entries: 1,
      dropped: 7,
      final: true,
      droppedBy: [{ permission: 'FileSystemRead', count: 5, under: ['/data/a', '/data/b'] }],
    });
    const a = parseRecordFile(
      [
        header(1),
        JSON.stringify({
          t: 'seen',
          permission: 'FileSystemRead',
          resource: '/app/t',
          count: 3,
          first: 1,
          last: 2,
          site: '/app/a.js:1:1',
          sites: ['/app/b.js:2:2'],
        }),
        summary,
      ].join('\n'),
      'a',
    );
    const m = mergeRecords([a]);
    expect(m.entries[0]!.sites).toEqual(['/app/a.js:1:1', '/app/b.js:2:2']);
    expect(m.dropped).toEqual([
      { permission: 'FileSystemRead', count: 5, under: ['/data/a', '/data/b'] },
      { permission: '', count: 2, under: [] },
    ]);
    expect(recordsCaveats(m).slice(1)).toEqual([
      "5 checks of FileSystemRead came past a recorder's cap of distinct entries and are not in the records (under /data/a, /data/b): the profile may lack those needs (raise PERMLEARN_RECORD_MAX)",
      "2 checks came past a recorder's cap of distinct entries and are not in the records: the profile may lack those needs (raise PERMLEARN_RECORD_MAX)",
    ]);
  });
});
