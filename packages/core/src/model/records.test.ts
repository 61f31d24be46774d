import { describe, expect, it } from 'vitest';
import { compareWithRecords, mergeRecords, parseRecordFile, recordDenials, seenInRecords } from './records.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import type { Grant } from './grants.js';

const caps = capabilitiesOf(parseNodeVersion('v26.10.0')!);
const header = (pid: number, mode = 'audit') => JSON.stringify({ t: 'record', v: 1, pid, node: 'v26.10.0', mode, main: '/app/server.js', cwd: '/app', started: 1000, unseen: [] });
const seen = (permission: string, resource: string, count: number, first: number, last: number, site?: string) => JSON.stringify({ t: 'seen', permission, resource, count, first, last, cwd: '/app', ...(site ? { site } : {}) });

describe('record files', () => {
  it('parses a record, and a last line cut off mid-write is counted, not fatal', () => {
    const text = [header(1), seen('FileSystemRead', '/app/t.html', 5, 1100, 1900, '/app/server.js:3:4'), '{"t":"seen","permission":"FileSy'].join('\n');
    const f = parseRecordFile(text, 'r1');
    expect(f.entries).toEqual([{ permission: 'FileSystemRead', resource: '/app/t.html', cwd: '/app', site: '/app/server.js:3:4', count: 5, first: 1100, last: 1900 }]);
    expect(f.final).toBe(false);
    expect(f.invalid).toBe(1);
  });

  it('refuses what is not a record, and drops entries with relative paths or bad counts', () => {
    expect(() => parseRecordFile('{"hello":1}', 'x')).toThrow('x is not a permlearn record file');
    const f = parseRecordFile([header(1), seen('FileSystemRead', 'relative.txt', 1, 1, 1), seen('ChildProcess', '/bin/sh', 0, 1, 1), JSON.stringify({ t: 'summary', flushed: 5, entries: 0, dropped: 3, final: true })].join('\n'), 'r');
    expect(f.entries).toEqual([]);
    expect(f.invalid).toBe(2);
    expect(f).toMatchObject({ final: true, dropped: 3, flushed: 5 });
  });

  it('merges several records: counts added, first/last widened, sites kept, seen-in counted', () => {
    const a = parseRecordFile([header(1), seen('FileSystemRead', '/app/t.html', 5, 1100, 1900, '/app/a.js:1:1')].join('\n'), 'a');
    const b = parseRecordFile([header(2), seen('FileSystemRead', '/app/t.html', 2, 900, 1500, '/app/b.js:2:2'), seen('ChildProcess', '/bin/echo', 1, 2000, 2000)].join('\n'), 'b');
    const m = mergeRecords([a, b]);
    expect(m.entries.map((e) => [e.permission, e.resource, e.count, e.first, e.last, e.sites, e.seenIn])).toEqual([
      ['FileSystemRead', '/app/t.html', 7, 900, 1900, ['/app/a.js:1:1', '/app/b.js:2:2'], [0, 1]],
      ['ChildProcess', '/bin/echo', 1, 2000, 2000, [], [1]],
    ]);
    expect(recordDenials(m)[0]).toMatchObject({ source: 'channel', hits: 7, time: 900, lastTime: 1900, site: '/app/a.js:1:1' });
    expect(seenInRecords({ scope: 'child' }, m, caps)).toEqual({ runs: 1, of: 2 });
    expect(seenInRecords({ scope: 'fs.read', path: '/app', kind: 'dir' }, m, caps)).toEqual({ runs: 2, of: 2 });
  });

  it('compares a profile with records: new needs with who asked, grants unused all along', () => {
    const m = mergeRecords([parseRecordFile([header(1), seen('FileSystemWrite', '/app/up/x', 3, 1, 9, '/app/s.js:7:1'), seen('FileSystemRead', '/app/t.html', 1, 1, 1)].join('\n'), 'a')]);
    const grants: Grant[] = [
      { scope: 'fs.read', path: '/app/t.html', kind: 'file', denials: [], notes: [] },
      { scope: 'child', denials: [], notes: [] },
    ];
    const r = compareWithRecords(grants, m, caps, () => 'file', (g) => g.scope);
    expect(r.newNeeds).toEqual([{ permission: 'FileSystemWrite', resource: '/app/up/x', sites: ['/app/s.js:7:1'], count: 3, first: 1, last: 9, seenIn: 1, denied: false }]);
    expect(r.unused).toEqual(['child']);
  });
});
