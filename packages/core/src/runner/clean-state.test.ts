import { appendFileSync, chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CleanState, initialAreas } from './clean-state.js';
import { writeGrantsOf } from './run-cleanly.js';

let top: string;
let project: string;
let tmp: string;
let session: string;

beforeEach(() => {
  top = mkdtempSync(path.join(os.tmpdir(), 'pl-clean-unit-'));
  project = path.join(top, 'project');
  tmp = path.join(top, 'tmp');
  session = path.join(top, 'session');
  mkdirSync(path.join(project, 'data'), { recursive: true });
  writeFileSync(path.join(project, 'data', 'state.json'), '{"n":1}');
  chmodSync(path.join(project, 'data', 'state.json'), 0o640);
  writeFileSync(path.join(project, 'app.js'), '');
  mkdirSync(tmp);
  mkdirSync(session);
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

function state(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    const st = lstatSync(p);
    out[path.relative(dir, p) || '.'] = st.isDirectory() ? `dir ${st.mode & 0o7777}` : `file ${st.mode & 0o7777} ${readFileSync(p, 'utf8')}`;
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n));
  };
  walk(dir);
  return out;
}

function recorded(): CleanState {
  const clean = new CleanState({ sessionDir: session });
  clean.capture({ path: project, depth: Infinity, skip: ['.git', 'node_modules'], backup: true });
  clean.capture({ path: tmp, depth: 1 });
  return clean;
}

describe('CleanState', () => {
  it('puts back what a run under write grants created and changed, content and mode, before the next run', () => {
    const before = state(project);
    const clean = recorded();
    const grants = [
      { path: path.join(project, 'data'), kind: 'dir' as const },
      { path: path.join(project, 'logs'), kind: 'missing' as const },
    ];
    clean.beforeRun(grants);
    // The run: a new folder, a changed file (content and mode), a removed one.
    mkdirSync(path.join(project, 'logs'));
    writeFileSync(path.join(project, 'logs', 'a.log'), 'x');
    appendFileSync(path.join(project, 'data', 'state.json'), ' more');
    chmodSync(path.join(project, 'data', 'state.json'), 0o600);
    writeFileSync(path.join(project, 'data', 'new.json'), '{}');
    clean.afterRun(grants, []);
    // Until the next run the outputs stay (learning plans the next grants from them) ...
    expect(statSync(path.join(project, 'logs')).isDirectory()).toBe(true);
    expect(clean.initialKind(path.join(project, 'logs'))).toBe('missing');
    expect(clean.initialKind(path.join(project, 'logs', 'a.log'))).toBe('missing');
    expect(clean.initialKind(path.join(project, 'data'))).toBe('dir');
    // ... and the next run starts from the initial state.
    clean.beforeRun(grants);
    expect(state(project)).toEqual(before);
    const summary = clean.finish(false);
    expect(summary).toMatchObject({ runs: 2, restored: true, unrestored: [] });
    expect(summary.created).toEqual([path.join(project, 'data', 'new.json'), path.join(project, 'logs')]);
    expect(summary.changed).toEqual([path.join(project, 'data', 'state.json')]);
  });

  it('restores a file an audit run removed, and moves aside the folder it created in $TMPDIR (from the reported writes)', () => {
    const before = { project: state(project), tmp: state(tmp) };
    const clean = recorded();
    clean.beforeRun([]);
    unlinkSync(path.join(project, 'data', 'state.json'));
    mkdirSync(path.join(tmp, 'tool', 'sub'), { recursive: true });
    writeFileSync(path.join(tmp, 'tool', 'sub', '1.pipe'), '');
    clean.afterRun(
      [],
      [
        { path: path.join(project, 'data', 'state.json'), existed: true },
        { path: path.join(tmp, 'tool', 'sub', '1.pipe'), existed: false },
      ],
    );
    expect(clean.initialKind(path.join(tmp, 'tool'))).toBe('missing');
    const summary = clean.finish(false);
    expect({ project: state(project), tmp: state(tmp) }).toEqual(before);
    expect(summary.created).toEqual([path.join(tmp, 'tool')]);
  });

  it('leaves files it has no evidence the app wrote, wherever they appear', () => {
    const clean = recorded();
    clean.beforeRun([]);
    writeFileSync(path.join(tmp, 'someone-else'), '');
    writeFileSync(path.join(project, 'editor.swp'), '');
    clean.afterRun([], []);
    expect(clean.finish(false).created).toEqual([]);
    expect(statSync(path.join(tmp, 'someone-else')).isFile()).toBe(true);
    expect(statSync(path.join(project, 'editor.swp')).isFile()).toBe(true);
  });

  it('knows the folders in $TMPDIR by name: what an audit run writes in one is moved aside, one it removes is made again and named', () => {
    mkdirSync(path.join(tmp, 'kept'));
    mkdirSync(path.join(tmp, 'gone'));
    writeFileSync(path.join(tmp, 'note.txt'), 'n');
    const clean = recorded();
    expect([clean.initialKind(path.join(tmp, 'kept')), clean.initialKind(path.join(tmp, 'note.txt')), clean.initialKind(path.join(tmp, 'new'))]).toEqual([
      'dir',
      'file',
      'missing',
    ]);
    clean.beforeRun([]);
    writeFileSync(path.join(tmp, 'kept', 'out.log'), 'x');
    rmSync(path.join(tmp, 'gone'), { recursive: true });
    appendFileSync(path.join(tmp, 'note.txt'), ' more');
    clean.afterRun(
      [],
      [
        { path: path.join(tmp, 'kept', 'out.log'), existed: false },
        { path: path.join(tmp, 'gone'), existed: true },
        { path: path.join(tmp, 'note.txt'), existed: true },
      ],
    );
    const summary = clean.finish(false);
    expect(readdirSync(path.join(tmp, 'kept'))).toEqual([]);
    expect(statSync(path.join(tmp, 'gone')).isDirectory()).toBe(true);
    expect(summary.created).toEqual([path.join(tmp, 'kept', 'out.log')]);
    expect(summary.changed).toEqual([path.join(tmp, 'gone'), path.join(tmp, 'note.txt')]);
    expect(summary.unrestored).toEqual([
      `${path.join(tmp, 'gone')}: removed by the app and made again, without its mode and times: only its name was recorded before learning`,
      `${path.join(tmp, 'note.txt')}: changed by the app; it was too large to copy before learning, so it was not put back`,
    ]);
  });

  it('keeps the last run’s outputs when asked, and says so', () => {
    const clean = recorded();
    const grants = [{ path: path.join(project, 'logs'), kind: 'created-dir' as const }];
    clean.beforeRun(grants);
    mkdirSync(path.join(project, 'logs'));
    clean.afterRun(grants, []);
    const summary = clean.finish(true);
    expect(summary).toMatchObject({ restored: false, kept: [path.join(project, 'logs')] });
    expect(statSync(path.join(project, 'logs')).isDirectory()).toBe(true);
  });

  it('names the files it could not put back', () => {
    const clean = new CleanState({ sessionDir: session, maxBackupBytes: 0 });
    clean.capture({ path: project, depth: Infinity, backup: true });
    const grants = [{ path: path.join(project, 'data'), kind: 'dir' as const }];
    clean.beforeRun(grants);
    writeFileSync(path.join(project, 'data', 'state.json'), 'changed!');
    clean.afterRun(grants, []);
    const summary = clean.finish(false);
    expect(summary.restored).toBe(false);
    expect(summary.unrestored[0]).toMatch(/state\.json: .*too large to copy/);
  });
});

describe('initialAreas', () => {
  it('records the project in full with copies, the cwd outside it, $TMPDIR one level and the home folder two', () => {
    expect(initialAreas('/srv/app', '/srv/app/sub', '/home/ann')).toEqual([
      { path: '/srv/app', depth: Infinity, skip: ['.git', 'node_modules'], backup: true },
      { path: os.tmpdir(), depth: 1 },
      { path: '/home/ann', depth: 2 },
    ]);
    // A "project" that is the home folder itself is listed, not copied.
    expect(initialAreas('/home/ann', '/home/ann', '/home/ann')[0]).toEqual({ path: '/home/ann', depth: 1 });
  });
});

describe('writeGrantsOf', () => {
  it('reads the write grants back from rendered flags', () => {
    expect(
      writeGrantsOf(['--permission', '--allow-fs-write=/a/logs/*', '--allow-fs-write=./tmp-', '--allow-fs-write=/tmp/x-*,/b', '--allow-fs-read=/c'], '/a'),
    ).toEqual([
      { path: '/a/logs', kind: 'created-dir' },
      { path: '/a/tmp-', kind: 'dir' },
      { path: '/tmp/x-', kind: 'prefix' },
      { path: '/b', kind: 'dir' },
    ]);
  });
});
