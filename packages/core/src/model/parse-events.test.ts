// The recorder's report parser on hand-written lines and on the real audit captures; the parser on
// what the recorder writes inside real Node is in test/integration/recorder-report.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emptyReport, mergeReports, messageKind, parseRecorderReport, runFieldsOf } from './parse-events.js';
import { checkKey, touchKey } from './recorder-protocol.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CAPTURES = path.resolve(HERE, '../../../../test/captures');

const line = (o: unknown): string => JSON.stringify(o);
/** The hand-written lines of these tests are unsigned: they test reading, not authentication
 *  (see evidence.test.ts for that, with lines the real recorder signed). */
const PLAIN = { verify: (l: string) => l };

describe('parseRecorderReport: message kinds', () => {
  it('hello from the main thread marks the recorder loaded; a worker hello does not', () => {
    expect(parseRecorderReport(line({ t: 'hello', thread: 'worker', pid: 1 }), PLAIN).loaded).toBe(false);
    expect(parseRecorderReport(line({ t: 'hello', thread: 'main', pid: 1, node: 'v26.10.0' }), PLAIN).loaded).toBe(true);
  });

  it('a Worker started outside the permission model: the first call site, with its repeats counted', () => {
    const text = [
      line({ t: 'unbound', thread: 'main', api: 'Worker', site: '/app/node_modules/esbuild/lib/main.js:2400:20' }),
      line({ t: 'hits', thread: 'main', counts: { unbound: 2 } }),
    ].join('\n');
    expect(parseRecorderReport(text, PLAIN).unbound).toEqual([{ api: 'Worker', site: '/app/node_modules/esbuild/lib/main.js:2400:20', hits: 3 }]);
    expect(parseRecorderReport(line({ t: 'unbound', thread: 'main', api: 'spawn' }), PLAIN)).toMatchObject({ junk: 1, unbound: [] });
  });

  it('exit code from the exit message, the last one wins', () => {
    expect(parseRecorderReport('', PLAIN).exitCode).toBeUndefined();
    expect(parseRecorderReport(line({ t: 'exit', code: 0 }), PLAIN).exitCode).toBe(0);
    expect(parseRecorderReport([line({ t: 'exit', code: 0 }), line({ t: 'exit', code: 7 })].join('\n'), PLAIN).exitCode).toBe(7);
    expect(parseRecorderReport(line({ t: 'exit', code: '1' }), PLAIN)).toMatchObject({ junk: 1 });
  });

  it("asked: 'has' is kept on a channel check only, and its repeats are counted apart from an access's", () => {
    const has = { t: 'denial', source: 'channel', thread: 'main', permission: 'FileSystemWrite', resource: '/app/c.json', asked: 'has' };
    const access = { ...has, asked: undefined };
    const r = parseRecorderReport(
      [line(has), line(access), line({ t: 'hits', thread: 'main', counts: { 'has\u0000FileSystemWrite\u0000/app/c.json\u0000': 2 } })].join('\n'),
      PLAIN,
    );
    expect(r.denials).toEqual([
      { permission: 'FileSystemWrite', resource: '/app/c.json', code: 'ERR_ACCESS_DENIED', source: 'channel', thread: 'main', asked: 'has', hits: 3 },
      { permission: 'FileSystemWrite', resource: '/app/c.json', code: 'ERR_ACCESS_DENIED', source: 'channel', thread: 'main' },
    ]);
    // Only the channel carries has() checks: an error that says so is not one.
    expect(parseRecorderReport(line({ ...has, source: 'caught' }), PLAIN).denials[0]).not.toHaveProperty('asked');
    expect(parseRecorderReport(line({ ...has, asked: 'yes' }), PLAIN).denials[0]).not.toHaveProperty('asked');
  });

  it('a denial keeps every optional field it carries, and only those', () => {
    const full = {
      t: 'denial',
      source: 'uncaught',
      thread: 'worker',
      cwd: '/app',
      site: '/app/w.js:1:2',
      permission: 'FileSystemRead',
      resource: 'x',
      code: 'ERR_ACCESS_DENIED',
      message: 'm',
    };
    expect(parseRecorderReport(line(full), PLAIN).denials).toEqual([
      {
        permission: 'FileSystemRead',
        resource: 'x',
        code: 'ERR_ACCESS_DENIED',
        source: 'uncaught',
        cwd: '/app',
        site: '/app/w.js:1:2',
        message: 'm',
        thread: 'worker',
      },
    ]);
    const bare = { t: 'denial', source: 'channel', permission: 'WorkerThreads', resource: '' };
    expect(parseRecorderReport(line(bare), PLAIN).denials).toEqual([
      { permission: 'WorkerThreads', resource: '', code: 'ERR_ACCESS_DENIED', source: 'channel' },
    ]);
  });

  it('ERR_DLOPEN_DISABLED code is kept', () => {
    const d = { t: 'denial', source: 'logged', permission: 'Addon', resource: '', code: 'ERR_DLOPEN_DISABLED' };
    expect(parseRecorderReport(line(d), PLAIN).denials[0]).toMatchObject({ code: 'ERR_DLOPEN_DISABLED', source: 'logged' });
  });

  it.each([
    ['not JSON', 'hello world'],
    ['a truncated line', '{"t":"denial","source":"uncaught","permi'],
    ['an unknown message type', line({ t: 'bye' })],
    ['a denial with an unknown source', line({ t: 'denial', source: 'stderr', permission: 'FileSystemRead', resource: '/x' })],
    ['a denial without a resource', line({ t: 'denial', source: 'uncaught', permission: 'FileSystemRead' })],
    ['a denial with a numeric permission', line({ t: 'denial', source: 'uncaught', permission: 1, resource: '' })],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
  ])('%s is junk, counted and not thrown', (_what, text) => {
    expect(parseRecorderReport(`${text}\n${line({ t: 'hello', thread: 'main' })}\n`, PLAIN)).toMatchObject({ loaded: true, denials: [], junk: 1 });
  });

  it('blank lines are not junk', () => {
    expect(parseRecorderReport('\n   \n\n', PLAIN)).toMatchObject({ loaded: false, denials: [], junk: 0 });
  });
});

describe('parseRecorderReport on the real audit captures (24, 26)', () => {
  const files = ['audit-read-hostname', 'audit-require', 'audit-spawn', 'audit-worker'].flatMap((c) => [`node24/${c}.ndjson`, `node26/${c}.ndjson`]);

  it.each(files)('%s as captured (audit preload format, no `t`) is all junk', (file) => {
    const text = readFileSync(path.join(CAPTURES, file), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim()).length;
    expect(lines).toBeGreaterThan(1);
    expect(parseRecorderReport(text, PLAIN)).toMatchObject({ loaded: false, denials: [], junk: lines });
  });

  it.each(files)('%s as recorder channel messages keeps every event, in order', (file) => {
    const events = readFileSync(path.join(CAPTURES, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { channel: string; permission: string; resource: string; cwd: string });
    const text = events
      .map((e) =>
        line({ t: 'denial', source: 'channel', thread: 'main', code: 'ERR_ACCESS_DENIED', permission: e.permission, resource: e.resource, cwd: e.cwd }),
      )
      .join('\n');
    const report = parseRecorderReport(text, PLAIN);
    expect(report.junk).toBe(0);
    expect(report.denials.map((d) => [d.permission, d.resource, d.cwd, d.source])).toEqual(events.map((e) => [e.permission, e.resource, e.cwd, 'channel']));
  });
});

describe('parseRecorderReport: what the app loaded', () => {
  it('keeps module files and resolver probes in order, each once', () => {
    const text = [
      { t: 'load', thread: 'main', file: '/app/a.js', from: '/app/index.js' },
      { t: 'probe', thread: 'main', files: ['/app/node_modules/x/package.json', '/node_modules/x/package.json'] },
      { t: 'load', thread: 'main', file: '/app/a.js' },
      { t: 'load', thread: 'worker', file: '/app/w.js' },
      { t: 'probe', thread: 'main', files: ['/app/node_modules/x/package.json', 7] },
    ]
      .map((m) => JSON.stringify(m))
      .join('\n');
    const r = parseRecorderReport(text, PLAIN);
    expect(r.modules).toEqual([{ file: '/app/a.js', from: '/app/index.js' }, { file: '/app/w.js' }]);
    expect(r.probes).toEqual([{ file: '/app/node_modules/x/package.json' }, { file: '/node_modules/x/package.json' }]);
    expect(r.junk).toBe(0);
  });
});

describe('the protocol around the parser', () => {
  it("a child's hello is a process, not junk; a hello from an unknown thread is junk", () => {
    const r = parseRecorderReport(
      [line({ t: 'hello', thread: 'child', pid: 9, main: '/app/w.js' }), line({ t: 'hello', thread: 'other', pid: 10 })].join('\n'),
      PLAIN,
    );
    expect(r.processes).toEqual([
      { pid: 9, thread: 'child', main: '/app/w.js' },
      { pid: 10, thread: 'other' },
    ]);
    expect(r.junk).toBe(1);
  });

  it('a kind from a line, only for a recorder message', () => {
    expect(messageKind(line({ t: 'dropped', time: 1, applied: 0 }))).toBe('dropped');
    expect(messageKind(line({ t: 'droppedish' }))).toBeUndefined();
    expect(messageKind('{"t":"dropped"')).toBeUndefined();
    expect(messageKind('"dropped"')).toBeUndefined();
  });

  it('counts arrive under the keys the protocol builds', () => {
    const text = [
      line({ t: 'touch', thread: 'main', file: '/a', api: 'readFileSync' }),
      line({ t: 'denial', source: 'channel', thread: 'main', permission: 'FileSystemRead', resource: '/b', cwd: '/app' }),
      line({ t: 'hits', thread: 'main', counts: { [touchKey('/a')]: 2, [checkKey(undefined, 'FileSystemRead', '/b', '/app')]: 3 } }),
    ].join('\n');
    const r = parseRecorderReport(text, PLAIN);
    expect(r.touched.map((t) => t.hits)).toEqual([3]);
    expect(r.denials.map((d) => d.hits)).toEqual([4]);
  });

  it("mergeReports adds a child's findings, each denial marked as a child's", () => {
    const into = emptyReport();
    const child = parseRecorderReport(
      [
        line({ t: 'hello', thread: 'child', pid: 3 }),
        line({ t: 'denial', source: 'caught', thread: 'main', permission: 'FileSystemRead', resource: '/c' }),
        line({ t: 'load', thread: 'child', file: '/m.js' }),
      ].join('\n'),
      PLAIN,
    );
    mergeReports(into, child);
    expect(into.denials.map((d) => [d.resource, d.thread])).toEqual([['/c', 'child']]);
    expect(into.modules).toEqual([{ file: '/m.js' }]);
    expect(into.processes).toEqual([{ pid: 3, thread: 'child' }]);
    expect(runFieldsOf(into)).toEqual({ denials: into.denials, modules: into.modules, probes: [], touched: [], uses: [], missing: [], listed: [] });
  });

  it("mergeReports marks the module a child's hello names as its main as that child's own entry, and no other", () => {
    const into = emptyReport();
    into.modules.push({ file: '/app/bin/tool.js' }); // the main thread's own load of the same file stays unmarked
    const child = parseRecorderReport(
      [
        line({ t: 'hello', thread: 'child', pid: 3, node: 'v22.23.3', main: '/app/bin/tool.js' }),
        line({ t: 'load', thread: 'child', file: '/app/bin/tool.js' }),
        line({ t: 'load', thread: 'child', file: '/app/lib/util.js', from: '/app/bin/tool.js' }),
      ].join('\n'),
      PLAIN,
    );
    mergeReports(into, child);
    expect(into.modules).toEqual([
      { file: '/app/bin/tool.js' },
      { file: '/app/bin/tool.js', ownEntry: true },
      { file: '/app/lib/util.js', from: '/app/bin/tool.js' },
    ]);
  });
});

describe('parseRecorderReport: the denied fs call', () => {
  const denial = { t: 'denial', source: 'uncaught', thread: 'main', permission: 'FileSystemWrite', resource: '/app/logs' };
  it('keeps the fs function the recorder saw a file-system denial leave, and only a plain function name', () => {
    expect(parseRecorderReport(line({ ...denial, call: 'mkdirSync' }), PLAIN).denials[0]!.call).toBe('mkdirSync');
    expect(parseRecorderReport(line({ ...denial, call: 'mkdir; rm -rf' }), PLAIN).denials[0]!.call).toBeUndefined();
    expect(parseRecorderReport(line({ ...denial, call: 42 }), PLAIN).denials[0]!.call).toBeUndefined();
    expect(parseRecorderReport(line({ ...denial, permission: 'ChildProcess', resource: '', call: 'mkdirSync' }), PLAIN).denials[0]!.call).toBeUndefined();
  });
});
