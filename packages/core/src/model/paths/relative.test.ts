import { describe, expect, it } from 'vitest';
import { movePath, projectRootOf, relativePath, type Layout } from './index.js';

const svc: Layout = { cwd: '/app/svc', root: '/app' };
const flat: Layout = { cwd: '/app', root: '/app' };
const top: Layout = { cwd: '/', root: '/' };

describe('relativePath', () => {
  it.each<[p: string, layout: Layout, dotSlash: string | undefined, bare: string | undefined]>([
    // the cwd itself, with and without a trailing slash
    ['/app/svc', svc, '.', '.'],
    ['/app/svc/', svc, './', './'],
    ['/app/svc/.', svc, '.', '.'],
    // below the cwd; a trailing slash stays
    ['/app/svc/a.txt', svc, './a.txt', 'a.txt'],
    ['/app/svc/cache/', svc, './cache/', 'cache/'],
    ['/app/svc/./a.txt', svc, './a.txt', 'a.txt'],
    ['/app/svc/d/../a.txt', svc, './a.txt', 'a.txt'],
    // a name that starts with two dots is still below the cwd
    ['/app/svc/..cache', svc, './..cache', '..cache'],
    // elsewhere in the project: `..`, whatever dotSlash says
    ['/app', svc, '..', '..'],
    ['/app/', svc, '../', '../'],
    ['/app/lib/x.js', svc, '../lib/x.js', '../lib/x.js'],
    ['/app/svc/../lib/x.js', svc, '../lib/x.js', '../lib/x.js'],
    // a sibling sharing a prefix is not inside: `/app/svc2` is in the project, `/app2` is not
    ['/app/svc2/x', svc, '../svc2/x', '../svc2/x'],
    ['/app2/x', svc, undefined, undefined],
    ['/app2', flat, undefined, undefined],
    ['/ap', flat, undefined, undefined],
    // outside the project, the root of the file system included
    ['/etc/hosts', svc, undefined, undefined],
    ['/', svc, undefined, undefined],
    ['/app/svc/../../etc', svc, undefined, undefined],
    // the cwd equal to the root, and both `/`
    ['/app', flat, '.', '.'],
    ['/app/x', flat, './x', 'x'],
    ['/', top, '.', '.'],
    ['/etc/hosts', top, './etc/hosts', 'etc/hosts'],
    // a layout written with trailing slashes
    ['/app/svc/a', { cwd: '/app/svc/', root: '/app/' }, './a', 'a'],
    // names with spaces, commas and quotes are kept as they are
    ['/app/svc/my dir/a b.txt', svc, './my dir/a b.txt', 'my dir/a b.txt'],
    ['/app/svc/a,b', svc, './a,b', 'a,b'],
    [`/app/svc/it's "q"`, svc, `./it's "q"`, `it's "q"`],
    ['/app/other dir/x', svc, '../other dir/x', '../other dir/x'],
    // a relative path is already relative
    ['x/y', svc, 'x/y', 'x/y'],
    ['./x', svc, './x', './x'],
    ['.', svc, '.', '.'],
  ])('%s from %j → %s (dotSlash), %s', (p, layout, dotSlash, bare) => {
    expect(relativePath(p, layout, { dotSlash: true })).toBe(dotSlash);
    expect(relativePath(p, layout)).toBe(bare);
  });
});

describe('movePath', () => {
  it.each<[p: string, from: string, to: string, moved: string]>([
    ['/a/p/x', '/a/p', '/b/q', '/b/q/x'],
    ['/a/p', '/a/p', '/b/q', '/b/q'],
    ['/a/p/', '/a/p', '/b/q', '/b/q/'],
    ['/a/p/cache/', '/a/p', '/b', '/b/cache/'],
    ['/a/p/deep/er/f', '/a/p', '/b', '/b/deep/er/f'],
    // a sibling sharing the prefix, and anything outside, stay
    ['/a/px', '/a/p', '/b/q', '/a/px'],
    ['/a/p2/x', '/a/p', '/b/q', '/a/p2/x'],
    ['/etc/hosts', '/a/p', '/b/q', '/etc/hosts'],
    ['/', '/a/p', '/b/q', '/'],
    // the same root: nothing moves
    ['/a/p/x', '/a/p', '/a/p', '/a/p/x'],
    // into and out of `/`
    ['/a/p/x', '/a/p', '/', '/x'],
    ['/x', '/', '/a/p', '/a/p/x'],
    // names with spaces, commas and quotes
    ['/a/p/my dir/a,b "c"', '/a/p', '/b q', '/b q/my dir/a,b "c"'],
  ])('movePath(%s, %s → %s) = %s', (p, from, to, moved) => {
    expect(movePath(p, from, to)).toBe(moved);
  });
});

describe('projectRootOf', () => {
  it.each<[fromCwd: string, to: Layout, root: string]>([
    ['/old/repo/svc', { cwd: '/new/svc', root: '/new' }, '/old/repo'],
    ['/old/repo', { cwd: '/new', root: '/new' }, '/old/repo'],
    ['/old/a/b', { cwd: '/n/x/y', root: '/n' }, '/old'],
  ])('learned in %s, now %j → %s', (fromCwd, to, root) => {
    expect(projectRootOf(fromCwd, to)).toBe(root);
  });
});
