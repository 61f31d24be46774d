import { describe, expect, it } from 'vitest';
import type { FsProbe, FsScope, PathKind } from './types.js';
import { generalisePath, type Granularity } from './generalise.js';
import { outerNodeModulesOf, packageDirOf } from './paths/index.js';

// A small project tree: /work/app is the root.
const DIRS = new Set([
  '/work/app/node_modules',
  '/work/app/node_modules/express',
  '/work/app/node_modules/express/lib',
  '/work/app/node_modules/@scope/pkg',
  '/work/app/node_modules/@scope/pkg/dist',
  '/work/app/node_modules/a/node_modules/b',
  '/work/app/node_modules/.pnpm/x@1.0.0/node_modules/x',
  '/work/app/lib',
  '/work/app/config',
  '/work/app/secrets-inside',
  '/work/node_modules',
  '/work/node_modules/hoisted',
  '/tmp/app-cache',
  '/tmp/app-cache/sub',
  '/home/me/app',
]);
const SECRETS: Record<string, string[]> = { '/work/app/secrets-inside': ['.env'], '/work/app': ['.env'] };
const fs: FsProbe = {
  kind: (p) => (DIRS.has(p) ? 'dir' : p.includes('missing') ? 'missing' : 'file'),
  homedir: '/home/me',
  secretsUnder: (d) => SECRETS[d] ?? [],
};
const ctx = (granularity: Granularity, root = '/work/app') => ({ granularity, root, tmpdir: '/tmp', fs });

describe('packageDirOf / outerNodeModulesOf', () => {
  it.each([
    ['/a/node_modules/x/index.js', '/a/node_modules/x', '/a/node_modules'],
    ['/a/node_modules/@s/p/d/i.js', '/a/node_modules/@s/p', '/a/node_modules'],
    ['/a/node_modules/x/node_modules/y/i.js', '/a/node_modules/x/node_modules/y', '/a/node_modules'],
    ['/a/node_modules/x', undefined, '/a/node_modules'],
    ['/a/lib/i.js', undefined, undefined],
  ])('%s', (p, pkg, outer) => {
    expect(packageDirOf(p)).toBe(pkg);
    expect(outerNodeModulesOf(p)).toBe(outer);
  });
});

describe('generalisePath', () => {
  const cases: [string, string, PathKind, FsScope, Granularity, string | undefined][] = [
    // file: never widened
    ['file policy keeps a dependency file', '/work/app/node_modules/express/lib/router.js', 'file', 'fs.read', 'file', undefined],
    ['file policy keeps an app file', '/work/app/lib/a.js', 'file', 'fs.read', 'file', undefined],
    // deps
    ['deps: a dependency file → node_modules', '/work/app/node_modules/express/lib/router.js', 'file', 'fs.read', 'deps', '/work/app/node_modules'],
    [
      'deps: a nested dependency → the outermost node_modules',
      '/work/app/node_modules/a/node_modules/b/i.js',
      'file',
      'fs.read',
      'deps',
      '/work/app/node_modules',
    ],
    ['deps: a pnpm store file → node_modules', '/work/app/node_modules/.pnpm/x@1.0.0/node_modules/x/i.js', 'file', 'fs.read', 'deps', '/work/app/node_modules'],
    [
      'deps: a probe that never exists is covered too',
      '/work/app/node_modules/a/node_modules/missing/package.json',
      'missing',
      'fs.read',
      'deps',
      '/work/app/node_modules',
    ],
    ['deps: node_modules above the root → only the package', '/work/node_modules/hoisted/i.js', 'file', 'fs.read', 'deps', '/work/node_modules/hoisted'],
    ['deps: an app file → its folder', '/work/app/lib/a.js', 'file', 'fs.read', 'deps', '/work/app/lib'],
    ['deps: an app file at the root stays a file', '/work/app/index.js', 'file', 'fs.read', 'deps', undefined],
    ['deps: a folder next to a secret is not granted', '/work/app/secrets-inside/config.json', 'file', 'fs.read', 'deps', undefined],
    ['deps: an app directory stays as it is', '/work/app/config', 'dir', 'fs.read', 'deps', undefined],
    ['deps: a file outside the project stays a file', '/etc/hostname', 'file', 'fs.read', 'deps', undefined],
    ['deps: writes are never widened', '/work/app/lib/out.txt', 'file', 'fs.write', 'deps', undefined],
    ['deps: writes into node_modules are never widened', '/work/app/node_modules/express/x', 'file', 'fs.write', 'deps', undefined],
    // package
    [
      'package: a dependency file → its package',
      '/work/app/node_modules/express/lib/router.js',
      'file',
      'fs.read',
      'package',
      '/work/app/node_modules/express',
    ],
    ['package: a scoped package', '/work/app/node_modules/@scope/pkg/dist/i.js', 'file', 'fs.read', 'package', '/work/app/node_modules/@scope/pkg'],
    ['package: a missing package stays exact', '/work/app/node_modules/a/node_modules/missing/package.json', 'missing', 'fs.read', 'package', undefined],
    ['package: an app file → its folder', '/work/app/config/x.json', 'file', 'fs.read', 'package', '/work/app/config'],
    // dir
    ['dir: a dependency file → its folder', '/work/app/node_modules/express/lib/router.js', 'file', 'fs.read', 'dir', '/work/app/node_modules/express/lib'],
    ['dir: an app file → its folder', '/work/app/lib/a.js', 'file', 'fs.read', 'dir', '/work/app/lib'],
    // the temporary directory
    ['tmp: a file in an app folder → the folder (read)', '/tmp/app-cache/sub/f.json', 'file', 'fs.read', 'deps', '/tmp/app-cache'],
    ['tmp: a file in an app folder → the folder (write)', '/tmp/app-cache/f.json', 'file', 'fs.write', 'deps', '/tmp/app-cache'],
    ['tmp: a file directly in /tmp stays a file', '/tmp/f.json', 'file', 'fs.write', 'deps', undefined],
    ['tmp: nothing with the file policy', '/tmp/app-cache/f.json', 'file', 'fs.write', 'file', undefined],
    ['tmp: an mkdtemp prefix stays a prefix', '/tmp/app-', 'prefix', 'fs.write', 'deps', undefined],
    ['created folders stay as they are', '/work/app/logs', 'created-dir', 'fs.write', 'deps', undefined],
  ];
  it.each(cases)('%s', (_name, p, kind, scope, granularity, expected) => {
    expect(generalisePath(p, kind, scope, ctx(granularity))?.path).toBe(expected);
  });

  it('never the root itself, anything above it, the home directory or a top-level directory', () => {
    // The project is the home directory's child: its folders are fine, home itself never.
    expect(generalisePath('/home/me/app/index.js', 'file', 'fs.read', ctx('deps', '/home/me/app'))).toBeUndefined();
    // With the root at /work/app/lib a file in it is at the root: kept.
    expect(generalisePath('/work/app/lib/a.js', 'file', 'fs.read', ctx('deps', '/work/app/lib'))).toBeUndefined();
    // A project that lives in the temporary directory is not treated as a temporary folder.
    expect(generalisePath('/tmp/app-cache/sub/f.json', 'file', 'fs.read', ctx('deps', '/tmp/app-cache'))?.path).toBe('/tmp/app-cache/sub');
  });

  it('says why', () => {
    expect(generalisePath('/work/app/node_modules/express/index.js', 'file', 'fs.read', ctx('deps'))?.because).toMatch(
      /--granularity deps: every dependency in \/work\/app\/node_modules/,
    );
    expect(generalisePath('/work/app/node_modules/@scope/pkg/dist/i.js', 'file', 'fs.read', ctx('package'))?.because).toMatch(/the package @scope\/pkg/);
  });
});
