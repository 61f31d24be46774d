import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinary } from '@permlearn/test-nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecorderReport } from './parse-events.js';
import { createKeys, keyPipeText, tokenVerifier } from '../runner/evidence.js';
import { recorderText } from '../runner/session.js';

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

  it('exit code from the exit message, the last one wins', () => {
    expect(parseRecorderReport('', PLAIN).exitCode).toBeUndefined();
    expect(parseRecorderReport(line({ t: 'exit', code: 0 }), PLAIN).exitCode).toBe(0);
    expect(parseRecorderReport([line({ t: 'exit', code: 0 }), line({ t: 'exit', code: 7 })].join('\n'), PLAIN).exitCode).toBe(7);
    expect(parseRecorderReport(line({ t: 'exit', code: '1' }), PLAIN)).toMatchObject({ junk: 1 });
  });

  it('a denial keeps every optional field it carries, and only those', () => {
    const full = { t: 'denial', source: 'uncaught', thread: 'worker', cwd: '/app', site: '/app/w.js:1:2', permission: 'FileSystemRead', resource: 'x', code: 'ERR_ACCESS_DENIED', message: 'm' };
    expect(parseRecorderReport(line(full), PLAIN).denials).toEqual([
      { permission: 'FileSystemRead', resource: 'x', code: 'ERR_ACCESS_DENIED', source: 'uncaught', cwd: '/app', site: '/app/w.js:1:2', message: 'm', thread: 'worker' },
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
    const text = events.map((e) => line({ t: 'denial', source: 'channel', thread: 'main', code: 'ERR_ACCESS_DENIED', permission: e.permission, resource: e.resource, cwd: e.cwd })).join('\n');
    const report = parseRecorderReport(text, PLAIN);
    expect(report.junk).toBe(0);
    expect(report.denials.map((d) => [d.permission, d.resource, d.cwd, d.source])).toEqual(events.map((e) => [e.permission, e.resource, e.cwd, 'channel']));
  });
});

describe('parseRecorderReport on the recorder running in real Node', () => {
  let dir: string;
  let recorder: string;
  let entry: string;
  let keyFile: string;
  const keys = createKeys();
  const SIGNED = { verify: tokenVerifier(keys.main) };
  /** The recorder reads the run's key from fd 4 (here a file holding it) and closes it. */
  const stdio = () => ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')] as const;

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-events-')));
    recorder = path.join(dir, 'recorder.cjs');
    writeFileSync(recorder, recorderText({ fd: 3, ownerPid: process.pid, keyFd: 4 }));
    keyFile = path.join(dir, 'key');
    writeFileSync(keyFile, keyPipeText(keys));
    entry = path.join(dir, 'app.js');
    // A caught denial printed by the app, then an uncaught one on a relative path.
    writeFileSync(
      entry,
      [
        "const fs = require('fs');",
        "try { fs.readFileSync('/etc/hostname'); } catch (err) { console.error(err); }",
        "fs.readFileSync('secret.txt');",
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'secret.txt'), 'x');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(major: number) {
    const enable = major === 20 ? '--experimental-permission' : '--permission';
    const grants = [`--allow-fs-read=${recorder}`, ...(major === 20 ? [`--allow-fs-read=${entry}`] : [])];
    const r = spawnSync(nodeBinary(major), [enable, ...grants, '--require', recorder, entry], {
      cwd: dir,
      stdio: stdio(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    return { status: r.status, stderr: r.stderr, fd3: (r.output[3] as string | null) ?? '' };
  }

  it.each([26, 20])('Node %i: loaded, the uncaught denial with its resource and cwd, exit 1', (major) => {
    const { status, stderr, fd3 } = run(major);
    expect(status).toBe(1);
    expect(stderr).toContain("resource: 'secret.txt'");
    const report = parseRecorderReport(fd3, SIGNED);
    expect(report.junk).toBe(0);
    expect(report.loaded).toBe(true);
    expect(report.exitCode).toBe(1);
    const uncaught = report.denials.filter((d) => d.source === 'uncaught');
    expect(uncaught).toEqual([
      expect.objectContaining({
        permission: 'FileSystemRead',
        resource: 'secret.txt',
        cwd: dir,
        code: 'ERR_ACCESS_DENIED',
        thread: 'main',
        site: `${entry}:3:4`,
      }),
    ]);
    const logged = report.denials.filter((d) => d.source === 'logged');
    expect(logged).toEqual([expect.objectContaining({ permission: 'FileSystemRead', resource: '/etc/hostname', site: `${entry}:2:10` })]);
    const channel = report.denials.filter((d) => d.source === 'channel');
    if (major >= 24) {
      expect(channel.map((d) => d.resource)).toEqual(expect.arrayContaining(['/etc/hostname', 'secret.txt']));
    } else {
      expect(channel).toEqual([]);
    }
  });

  it('the recorder stays silent when its owner is another process', () => {
    const other = path.join(dir, 'other.cjs');
    writeFileSync(other, recorderText({ fd: 3, ownerPid: process.pid + 1_000_000 }));
    const r = spawnSync(nodeBinary(26), ['--permission', `--allow-fs-read=${other}`, '--require', other, entry], {
      cwd: dir,
      stdio: stdio(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(1);
    expect(parseRecorderReport((r.output[3] as string | null) ?? '', SIGNED)).toMatchObject({ loaded: false, denials: [], junk: 0 });
  });

  it('an app that exits cleanly reports exit 0 and no uncaught denial', () => {
    const ok = path.join(dir, 'ok.js');
    writeFileSync(ok, "console.log('hi');\n");
    const r = spawnSync(nodeBinary(26), ['--permission', `--allow-fs-read=${recorder}`, '--require', recorder, ok], {
      cwd: dir,
      stdio: stdio(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(0);
    const report = parseRecorderReport((r.output[3] as string | null) ?? '', SIGNED);
    expect(report).toMatchObject({ loaded: true, exitCode: 0, junk: 0 });
    expect(report.denials.filter((d) => d.source !== 'channel')).toEqual([]);
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
