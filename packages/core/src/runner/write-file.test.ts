import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkOutputPath, writeFileAtomic } from './write-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pl-write-'));
  dirs.push(d);
  return d;
}
const mode = (f: string) => statSync(f).mode & 0o7777;
/** No temporary file is left beside the target. */
const onlyFiles = (d: string) => readdirSync(d).sort();

describe('writeFileAtomic', () => {
  it('creates a new file', () => {
    const d = tmp();
    writeFileAtomic(path.join(d, 'p.json'), 'new');
    expect(readFileSync(path.join(d, 'p.json'), 'utf8')).toBe('new');
    expect(onlyFiles(d)).toEqual(['p.json']);
  });

  it('keeps an existing file without force, however it appeared after the check', () => {
    const d = tmp();
    const f = path.join(d, 'p.json');
    checkOutputPath(f); // nothing there yet
    writeFileSync(f, 'made meanwhile');
    chmodSync(f, 0o600);
    expect(() => writeFileAtomic(f, 'learned')).toThrow(new RegExp(`^${f} already exists; pass --force to overwrite it$`));
    expect(readFileSync(f, 'utf8')).toBe('made meanwhile');
    expect(mode(f)).toBe(0o600);
    expect(onlyFiles(d)).toEqual(['p.json']);
  });

  it('with force replaces a regular file and keeps its mode', () => {
    const d = tmp();
    const f = path.join(d, 'p.json');
    writeFileSync(f, 'old');
    chmodSync(f, 0o600);
    writeFileAtomic(f, 'new', { force: true });
    expect(readFileSync(f, 'utf8')).toBe('new');
    expect(mode(f)).toBe(0o600);
    chmodSync(f, 0o640);
    writeFileAtomic(f, 'newer', { force: true });
    expect(mode(f)).toBe(0o640);
    expect(onlyFiles(d)).toEqual(['p.json']);
  });

  it('never writes through or over a symbolic link, a folder or a device, even with force', () => {
    const d = tmp();
    const target = path.join(d, 'target.txt');
    writeFileSync(target, 'keep me');
    symlinkSync(target, path.join(d, 'link.json'));
    mkdirSync(path.join(d, 'folder.json'));
    for (const force of [false, true]) {
      expect(() => writeFileAtomic(path.join(d, 'link.json'), 'x', { force })).toThrow(/link\.json is a symbolic link: permlearn writes only regular files/);
      expect(() => writeFileAtomic(path.join(d, 'folder.json'), 'x', { force })).toThrow(/folder\.json is a folder: permlearn writes only regular files/);
      expect(() => writeFileAtomic('/dev/null', 'x', { force })).toThrow(/^\/dev\/null is a device: permlearn writes only regular files/);
    }
    expect(readlinkSync(path.join(d, 'link.json'))).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(lstatSync(path.join(d, 'folder.json')).isDirectory()).toBe(true);
    expect(onlyFiles(d)).toEqual(['folder.json', 'link.json', 'target.txt']);
  });

  it('replacing: only while the file still holds what was read', () => {
    const d = tmp();
    const f = path.join(d, 'permlearn.json');
    writeFileSync(f, 'committed');
    chmodSync(f, 0o600);
    writeFileAtomic(f, 'fresh', { replacing: 'committed' });
    expect(readFileSync(f, 'utf8')).toBe('fresh');
    expect(mode(f)).toBe(0o600);
    writeFileSync(f, 'edited while checking');
    expect(() => writeFileAtomic(f, 'fresher', { replacing: 'fresh' })).toThrow(/permlearn\.json changed while permlearn was working; not replaced/);
    expect(readFileSync(f, 'utf8')).toBe('edited while checking');
  });
});

describe('checkOutputPath', () => {
  it.each<[string, (d: string) => string, RegExp]>([
    ['an existing file', (d) => (writeFileSync(path.join(d, 'x'), ''), path.join(d, 'x')), /x already exists; pass --force to overwrite it$/],
    ['a missing folder', (d) => path.join(d, 'no', 'x'), /cannot write .*\/no\/x: the folder .*\/no does not exist$/],
    ['a file as the folder', (d) => (writeFileSync(path.join(d, 'f'), ''), path.join(d, 'f', 'x')), /cannot write .*\/f\/x: .*\/f is not a folder$/],
    // /sys takes no new file even for root, so this holds whoever runs the tests
    ['a folder that takes no file', () => '/sys/permlearn-out.json', /^cannot write \/sys\/permlearn-out\.json: the folder \/sys is not writable \(EACCES\)$/],
    ['a device', () => '/dev/null', /^\/dev\/null is a device: permlearn writes only regular files$/],
  ])('refuses %s', (_name, make, message) => {
    const d = tmp();
    expect(() => checkOutputPath(make(d))).toThrow(message);
    expect(onlyFiles(d).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('accepts a new name in a writable folder, and an existing regular file with force, leaving nothing behind', () => {
    const d = tmp();
    checkOutputPath(path.join(d, 'new.json'));
    writeFileSync(path.join(d, 'old.json'), 'old');
    checkOutputPath(path.join(d, 'old.json'), { force: true });
    expect(onlyFiles(d)).toEqual(['old.json']);
    expect(readFileSync(path.join(d, 'old.json'), 'utf8')).toBe('old');
  });
});
