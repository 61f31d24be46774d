import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PathKind } from '../types.js';
import {
  coversGrant,
  depth,
  grantCovers,
  isSameOrUnder,
  isStrictlyUnder,
  mkdtempPrefix,
  prefixConflicts,
  renderGrantPath,
  resolveResource,
  resourcePath,
  takesInGrant,
} from './index.js';

describe('isSameOrUnder / isStrictlyUnder', () => {
  it.each<[child: string, parent: string, same: boolean, strict: boolean]>([
    ['/x/a', '/x/a', true, false],
    ['/x/a/f', '/x/a', true, true],
    ['/x/a/b/c', '/x/a', true, true],
    ['/x/ab', '/x/a', false, false],
    ['/x/a-b/f', '/x/a', false, false],
    ['/x', '/x/a', false, false],
    ['/x/a/f', '/x/a/', true, true],
    ['/anything', '/', true, true],
    ['/x/b', '/x/a', false, false],
  ])('%s vs %s → same-or-under %s, strictly %s', (child, parent, same, strict) => {
    expect(isSameOrUnder(child, parent)).toBe(same);
    expect(isStrictlyUnder(child, parent)).toBe(strict);
  });
});

describe('grantCovers', () => {
  it.each<[grant: string, kind: PathKind, target: string, covers: boolean]>([
    // an existing directory: the whole subtree, on a segment boundary
    ['/x/d', 'dir', '/x/d', true],
    ['/x/d', 'dir', '/x/d/f', true],
    ['/x/d', 'dir', '/x/d/e/f', true],
    ['/x/d', 'dir', '/x/dq', false],
    ['/x/d', 'dir', '/x', false],
    // created at run time, rendered D/*: D itself and its subtree
    ['/x/new', 'created-dir', '/x/new', true],
    ['/x/new', 'created-dir', '/x/new/log.txt', true],
    ['/x/new', 'created-dir', '/x/newer', false],
    // an mkdtemp prefix, rendered P*: everything starting with P but P itself
    ['/tmp/app-', 'prefix', '/tmp/app-', false],
    ['/tmp/app-', 'prefix', '/tmp/app-Ab12Cd', true],
    ['/tmp/app-', 'prefix', '/tmp/app-Ab12Cd/f', true],
    ['/x/a', 'prefix', '/x/a/f', true],
    ['/x/a', 'prefix', '/x/ab/f', true],
    ['/x/a', 'prefix', '/x/a', false],
    ['/tmp/app-', 'prefix', '/tmp/app', false],
    // exact paths
    ['/x/f.txt', 'file', '/x/f.txt', true],
    ['/x/f.txt', 'file', '/x/f.txt/g', false],
    ['/x/f', 'file', '/x/f2', false],
    ['/x/newdir', 'missing', '/x/newdir', true],
    ['/x/newdir', 'missing', '/x/newdir/file.txt', false],
  ])('%s (%s) covers %s: %s', (grant, kind, target, covers) => {
    expect(grantCovers(grant, kind, target)).toBe(covers);
  });
});

describe('prefixConflicts', () => {
  it.each<[dir: string, stored: string[], conflicts: string[]]>([
    ['/x/a', ['/x/a', '/x/ab'], ['/x/ab']],
    ['/x/a', ['/x/abc', '/x/ab', '/x/b'], ['/x/abc', '/x/ab']],
    ['/n/cookie', ['/n/cookie', '/n/cookie-signature'], ['/n/cookie-signature']],
    ['/x/d', ['/x/d', '/x/drop.js'], ['/x/drop.js']],
    // names that differ before the directory name ends do not conflict
    ['/n/es-errors', ['/n/es-errors', '/n/es-define-property'], []],
    ['/x/ab', ['/x/a', '/x/ab'], []],
    // a child is not counted: normalised grants never list D/f beside D, and 22+ appends the
    // automatic entry grant after the flags, so D is stored first (checked on 22/24/26: a grant of
    // the app dir with the entry inside it leaves the dir itself readable)
    ['/x/d', ['/x/d/f', '/x/d'], []],
    ['/x/d', ['/x/d/index.js'], []],
    ['/x/a', [], []],
  ])('%s among %j → %j', (dir, stored, conflicts) => {
    expect(prefixConflicts(dir, stored)).toEqual(conflicts);
  });
});

describe('depth', () => {
  it.each<[string, number]>([
    ['/', 0],
    ['/tmp', 1],
    ['/tmp/', 1],
    ['/home/u/proj', 3],
  ])('%s → %i', (p, n) => expect(depth(p)).toBe(n));
});

describe('mkdtempPrefix', () => {
  it.each<[string, string | undefined]>([
    ['/tmp/app-XXXXXX', '/tmp/app-'],
    ['/tmp/XXXXXX', '/tmp/'],
    ['/tmp/fooXXXXXXX', '/tmp/fooX'],
    ['rel-XXXXXX', 'rel-'],
    ['/tmp/app-XXXXX', undefined],
    ['/tmp/app-xxxxxx', undefined],
    ['/tmp/app-XXXXXX/f', undefined],
    ['/tmp/app', undefined],
  ])('%s → %s', (resource, prefix) => {
    expect(mkdtempPrefix(resource)).toBe(prefix);
  });
});

describe('resolveResource', () => {
  it.each<[string, string, string]>([
    ['/x/y', '/cwd', '/x/y'],
    ['/x/./y/../z', '/cwd', '/x/z'],
    ['data/x.txt', '/app', '/app/data/x.txt'],
    ['./d/../top.txt', '/app', '/app/top.txt'],
    ['d//f', '/app', '/app/d/f'],
    ['../p/a', '/app/sub', '/app/p/a'],
    ['/x/d/', '/cwd', '/x/d'],
  ])('%s in %s → %s', (resource, cwd, abs) => {
    expect(resolveResource(resource, cwd)).toBe(abs);
  });

  it('gives what path.resolve gives on every path of up to four odd segments (its shortcut for normal paths included)', () => {
    const parts = ['', '.', '..', 'a', '.a', 'a.', '..a', 'b.js'];
    const seen: string[] = [];
    const walk = (p: string, left: number): void => {
      seen.push(p, `/${p}`);
      if (left > 0) for (const s of parts) walk(p === '' ? s : `${p}/${s}`, left - 1);
    };
    walk('', 4);
    for (const resource of seen) expect(resolveResource(resource, '/app/sub')).toBe(path.resolve('/app/sub', resource));
  });

  it('a denial changed after its path was worked out is worked out again', () => {
    const d = { resource: 'a', cwd: '/x' };
    expect(resourcePath(d)).toBe('/x/a');
    d.resource = 'b';
    expect(resourcePath(d)).toBe('/x/b');
    d.cwd = '/y';
    expect(resourcePath(d)).toBe('/y/b');
  });

  it.each<[resource: string, cwd: string | undefined, abs: string]>([
    ['data/x.txt', '/app', '/app/data/x.txt'],
    ['/x/y', undefined, '/x/y'],
    // no cwd (the app's was gone): from `/`, never from permlearn's own cwd
    ['a', undefined, '/a'],
  ])('resourcePath of %s in %s → %s', (resource, cwd, abs) => {
    expect(resourcePath({ resource, ...(cwd !== undefined ? { cwd } : {}) })).toBe(abs);
  });
});

describe('renderGrantPath', () => {
  it.each<[string, PathKind, string]>([
    ['/x/f', 'file', '/x/f'],
    ['/x/d', 'dir', '/x/d'],
    ['/x/new', 'missing', '/x/new'],
    ['/x/new', 'created-dir', '/x/new/*'],
    ['/x/new/', 'created-dir', '/x/new/*'],
    ['/tmp/app-', 'prefix', '/tmp/app-*'],
  ])('%s (%s) → %s', (p, kind, rendered) => {
    expect(renderGrantPath(p, kind)).toBe(rendered);
  });
});

describe('coversGrant (redundancy, for normalising) and takesInGrant (for check)', () => {
  it.each<[a: [string, PathKind], b: [string, PathKind], covers: boolean, takesIn: boolean]>([
    [['/x/a', 'file'], ['/x/a', 'file'], true, true],
    [['/x', 'dir'], ['/x/y', 'file'], true, true],
    [['/x', 'dir'], ['/x/y/', 'prefix'], true, true],
    [['/x', 'dir'], ['/x/a', 'prefix'], true, true],
    [['/x/a', 'prefix'], ['/x/ab', 'prefix'], true, true],
    [['/x/a', 'prefix'], ['/x/ab', 'dir'], true, true],
    [['/x/a', 'prefix'], ['/x/a', 'file'], false, false],
    // on one path `D/*` makes `D` redundant, not the other way round; check counts either as the folder
    [['/x', 'created-dir'], ['/x', 'dir'], true, true],
    [['/x', 'dir'], ['/x', 'created-dir'], false, true],
    [['/x', 'dir'], ['/x', 'dir'], false, true],
    // check matches a grant by its own path, not by its reach
    [['/x/a', 'file'], ['/x/a', 'prefix'], false, true],
    [['/x/a', 'file'], ['/x/a', 'dir'], false, true],
    [['/x', 'dir'], ['/x', 'prefix'], false, true],
    // a sibling that shares a prefix is never covered by a folder
    [['/app', 'dir'], ['/app2/y', 'file'], false, false],
    [['/app', 'dir'], ['/app2', 'dir'], false, false],
    [['/app/', 'prefix'], ['/app2', 'file'], false, false],
    [['/app', 'prefix'], ['/app2', 'file'], true, true],
    // `/` as a folder
    [['/', 'dir'], ['/etc/hosts', 'file'], true, true],
    [['/', 'dir'], ['/', 'dir'], false, true],
  ])('%j and %j: covers %s, takes in %s', ([ap, ak], [bp, bk], covers, takesIn) => {
    expect(coversGrant({ path: ap, kind: ak }, { path: bp, kind: bk })).toBe(covers);
    expect(takesInGrant({ path: ap, kind: ak }, { path: bp, kind: bk })).toBe(takesIn);
  });

  it('capability grants (no path) are never covered, and take each other in', () => {
    expect(coversGrant({}, {})).toBe(false);
    expect(takesInGrant({}, {})).toBe(true);
    expect(takesInGrant({ path: '/x', kind: 'dir' }, {})).toBe(false);
  });
});
