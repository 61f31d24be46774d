// The recorder's pure parts, without starting Node with the recorder: which denial an error carries
// (the error shapes of test/captures, as Node 20-26 print them), which fs calls write, where a
// call's options sit, and a child's preload and flags. The errors here copy the captured property
// blocks; whether Node really made an error is evidence.cjs's to judge (given here as a stub).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type Fn = (...args: any[]) => any;
const parts = <K extends string>(name: string) => require(`../../packages/core/recorder/${name}`) as Record<K, Fn>;
const { denialShape, denialsOf, withArgument, pathArg, writesWith, argumentOf, permissionWords } = parts<
  'denialShape' | 'denialsOf' | 'withArgument' | 'pathArg' | 'writesWith' | 'argumentOf' | 'permissionWords'
>('denials.cjs');
const { siteOf } = parts<'siteOf'>('stacks.cjs');
const { keepShape, read, relooks } = parts<'keepShape' | 'read' | 'relooks'>('util.cjs');
const { childOptionsAt, withPreload } = parts<'childOptionsAt' | 'withPreload'>('starts.cjs');

const every = { genuine: () => true, granted: () => false };
const RESTRICTED = 'Access to this API has been restricted. Use --allow-net to manage permissions.';

describe('denialsOf on the captured error shapes', () => {
  it.each([
    ['node20/fs-read-sync', { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource: '/APP/secret.txt' }, [['FileSystemRead', '/APP/secret.txt']]],
    ['node26/fsync (no flag lifts it)', { code: 'ERR_ACCESS_DENIED', permission: '', resource: '' }, [['', '']]],
    ['node26/addon', { code: 'ERR_DLOPEN_DISABLED' }, [['Addon', '']]],
    ['node26/net-dns', { errno: undefined, code: 'ERR_ACCESS_DENIED', syscall: 'getaddrinfo', hostname: 'localhost' }, [['Net', 'localhost']]],
    [
      'node26/net-connect-ip (the nested errno names it)',
      {
        errno: { code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: '127.0.0.1', message: RESTRICTED },
        code: 'ERR_ACCESS_DENIED',
        syscall: 'connect',
        address: '127.0.0.1',
        port: 9,
      },
      [['Net', '127.0.0.1']],
    ],
    [
      'node26/fetch-ip (a cause, then its errno)',
      {
        message: 'fetch failed',
        cause: {
          errno: { code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: '127.0.0.1' },
          code: 'ERR_ACCESS_DENIED',
          syscall: 'connect',
          address: '127.0.0.1',
          port: 9999,
        },
      },
      [['Net', '127.0.0.1']],
    ],
    [
      'an AggregateError of two',
      {
        errors: [
          { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource: '/a' },
          { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemWrite', resource: '/b' },
        ],
      },
      [
        ['FileSystemRead', '/a'],
        ['FileSystemWrite', '/b'],
      ],
    ],
    ['ENOENT is no denial', { code: 'ENOENT', syscall: 'open', path: '/x' }, []],
  ])('%s', (_name, err, want) => {
    expect(denialsOf(err, 0, undefined, every).map((d: { permission: string; resource: string }) => [d.permission, d.resource])).toEqual(want);
  });

  it('stops five levels down (a cause chain the app built to loop)', () => {
    const loop: Record<string, unknown> = { code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: 'h' };
    loop.cause = loop;
    expect(denialsOf(loop, 0, undefined, every)).toHaveLength(5);
  });

  it('keeps only what the judge says Node made, and what the run does not grant', () => {
    const err = {
      code: 'ERR_ACCESS_DENIED',
      permission: 'FileSystemRead',
      resource: '/a',
      cause: { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource: '/b' },
    };
    expect(denialsOf(err, 0, undefined, { genuine: (e: unknown) => e !== err, granted: () => false }).map((d: { resource: string }) => d.resource)).toEqual([
      '/b',
    ]);
    expect(
      denialsOf(err, 0, undefined, { genuine: () => true, granted: (d: { resource: string }) => d.resource === '/a' }).map(
        (d: { resource: string }) => d.resource,
      ),
    ).toEqual(['/b']);
  });

  it('a hostile getter is read as nothing', () => {
    const err = Object.defineProperty({ code: 'ERR_ACCESS_DENIED' }, 'permission', {
      get: () => {
        throw new Error('no');
      },
    });
    expect(read(err, 'permission')).toBeUndefined();
    expect(denialShape(err)).toEqual({ permission: '', resource: '', code: 'ERR_ACCESS_DENIED', message: undefined });
  });
});

describe('a resource-less fs denial named by its call', () => {
  const fill = { permission: 'FileSystemRead', resource: '/app/x' };
  it.each([
    [
      "Node's fs check without a resource",
      { permission: '', resource: '', code: 'ERR_ACCESS_DENIED', message: 'Access to this API has been restricted' },
      { permission: 'FileSystemRead', resource: '/app/x', resourceFrom: 'argument' },
    ],
    [
      'an API no flag lifts (fsync)',
      { permission: '', resource: '', code: 'ERR_ACCESS_DENIED', message: 'fsync API is disabled when Permission Model is enabled.' },
      { permission: '', resource: '' },
    ],
    [
      'a denial that names its resource',
      { permission: 'FileSystemRead', resource: '/other', code: 'ERR_ACCESS_DENIED', message: 'Access to this API has been restricted' },
      { resource: '/other' },
    ],
    [
      'not a file-system permission',
      { permission: 'Net', resource: '', code: 'ERR_ACCESS_DENIED', message: 'Access to this API has been restricted' },
      { permission: 'Net', resource: '' },
    ],
  ])('%s', (_name, found, want) => {
    const got = withArgument(found, fill);
    expect(got).toMatchObject(want);
    if (!('resourceFrom' in want)) expect(got).toBe(found);
  });
});

describe('fs calls', () => {
  it.each([
    ['readFileSync', ['/a'], false],
    ['writeFileSync', ['/a', 'x'], true],
    ['mkdir', ['/a'], true],
    ['openSync', ['/a', 'r'], false],
    ['openSync', ['/a', 'a+'], true],
    ['open', ['/a', 'w'], true],
    ['openSync', ['/a', 0], false],
    ['openSync', ['/a', 1], true],
    ['openSync', ['/a', 2], true],
    ['openSync', ['/a'], false],
    ['statSync', ['/a'], false],
  ])('%s(%j) writes: %s', (name, args, want) => expect(writesWith(name, args)).toBe(want));

  it('names the path argument, resolved, and nothing for an fd or an empty string', () => {
    expect(pathArg('/a/b/../c')).toBe('/a/c');
    expect(pathArg(Buffer.from('/a'))).toBe('/a');
    expect(pathArg(new URL('file:///a/b'))).toBe('/a/b');
    expect(pathArg(3)).toBeUndefined();
    expect(pathArg('')).toBeUndefined();
    expect(argumentOf('writeFile', ['/w', 'x'])).toEqual({ permission: 'FileSystemWrite', resource: '/w' });
    expect(argumentOf('read', [3])).toBeUndefined();
  });
});

describe('call sites from stack text', () => {
  const self = '/tmp/permlearn-abc/recorder.cjs';
  it('the first frame outside Node and outside the recorder', () => {
    const stack = [
      'Error: x',
      '    at Object.openSync (node:fs:573:18)',
      `    at wrapped (${self}:10:5)`,
      '    at main (/app/index.js:3:7)',
      '    at /app/other.js:1:1',
    ].join('\n');
    expect(siteOf(stack, self)).toBe('/app/index.js:3:7');
    expect(siteOf('Error: x\n    at node:internal/main:1:1', self)).toBeUndefined();
    expect(siteOf(undefined, self)).toBeUndefined();
  });
});

describe("a wrapper keeps its original's shape", () => {
  it('name and own properties, not length or prototype', () => {
    const original = Object.assign(function realpathSync(_p: string) {}, { native: () => 1 });
    const wrapped = keepShape(function (..._args: unknown[]) {}, original);
    expect(wrapped.name).toBe('realpathSync');
    expect(
      Reflect.ownKeys(wrapped)
        .filter((k) => k !== 'length' && k !== 'prototype' && k !== 'arguments' && k !== 'caller')
        .sort(),
    ).toEqual(['name', 'native']);
    expect(wrapped.native).toBe(original.native);
  });
});

describe('Node children', () => {
  it.each([
    ['spawn', ['node'], 1],
    ['spawn', ['node', ['-v']], 2],
    ['fork', ['w.js', undefined, { execArgv: [] }], 2],
    ['fork', ['w.js', null, { execArgv: [] }], 2],
    ['exec', ['ls', undefined, { env: {} }], 1],
    ['execFile', ['ls', undefined], 1],
  ])('%s%j: the options sit at %i', (name, args, at) => expect(childOptionsAt(args, name)).toBe(at));

  it('the recorder goes first among NODE_OPTIONS preloads (quoted when it must be), audit mode passed on, once', () => {
    expect(withPreload({ NODE_OPTIONS: '--max-old-space-size=64' }, '/s/recorder.cjs', false)).toEqual({
      NODE_OPTIONS: '--require /s/recorder.cjs --max-old-space-size=64',
    });
    expect(withPreload({}, '/s p/rec"x.cjs', true)).toEqual({ NODE_OPTIONS: '--require "/s p/rec\\"x.cjs" --permission-audit' });
    const env = { NODE_OPTIONS: '--require /s/recorder.cjs' };
    expect(withPreload(env, '/s/recorder.cjs', false)).toBe(env);
  });

  it('the permission words a child was started with, NODE_OPTIONS read as Node reads it', () => {
    expect(
      permissionWords(['--permission', '--max-old-space-size=9', '--allow-fs-read=/a'], '"--allow-fs-write=/b c" --require x "--allow-child-process"'),
    ).toEqual({
      execArgv: ['--permission', '--allow-fs-read=/a'],
      nodeOptions: ['--allow-fs-write=/b c', '--allow-child-process'],
    });
  });

  // The cases were checked against Node 26 (process.permission.has of each path under that NODE_OPTIONS).
  it.each([
    ['a quote that opens mid-word', '--permission --allow-fs-write="/b c" --allow-fs-read=/t', ['--permission', '--allow-fs-write=/b c', '--allow-fs-read=/t']],
    ['a quoted stretch inside a word, with an escaped quote', '--allow-fs-read=/x"y\\"z"w', ['--allow-fs-read=/xy"zw']],
    ['a tab, which does not separate words', '--allow-fs-read=/a\t--allow-fs-read=/b', ['--allow-fs-read=/a\t--allow-fs-read=/b']],
    ['runs of spaces', '  --allow-worker   --allow-wasi ', ['--allow-worker', '--allow-wasi']],
    ['a backslash outside quotes, kept', '--allow-fs-read=/a\\b', ['--allow-fs-read=/a\\b']],
  ])('NODE_OPTIONS words as Node splits them: %s', (_, text, words) => {
    expect(permissionWords([], text)).toEqual({ execArgv: [], nodeOptions: words });
  });
});

describe('relooks: a missing path asked for again from another call site', () => {
  it('looks at most `limit` more times a path, and takes each new site once', () => {
    const r = relooks(2) as { start(k: string, s: string): void; look(k: string): boolean; isNew(k: string, s?: string): boolean };
    expect(r.look('a')).toBe(false); // never started: a path not missing at its first report
    r.start('a', 'x.js:1:1');
    expect([r.look('a'), r.isNew('a', 'x.js:1:1')]).toEqual([true, false]); // the first site again
    expect([r.look('a'), r.isNew('a', 'y.js:2:2')]).toEqual([true, true]);
    expect(r.isNew('a', 'y.js:2:2')).toBe(false);
    expect(r.isNew('a', undefined)).toBe(false);
    expect(r.look('a')).toBe(false); // the looks are spent
  });
});
