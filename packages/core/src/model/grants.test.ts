import { describe, expect, it } from 'vitest';
import type { CapabilityScope, Denial, FsScope, PermissionName, PathKind, Scope } from './types.js';
import { findCovering, grantKey, normaliseGrants, renderFlags, renderGrantFlag, type Grant, type GrantNote } from './grants.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';

const caps = (v: string) => capabilitiesOf(parseNodeVersion(v)!);

function denial(resource: string, permission: PermissionName = 'FileSystemRead'): Denial {
  return { permission, resource, code: 'ERR_ACCESS_DENIED', source: 'uncaught' };
}

function fs(scope: FsScope, p: string, kind: PathKind = 'file', evidence: string[] = [p], notes: GrantNote[] = []): Grant {
  return { scope, path: p, kind, denials: evidence.map((r) => denial(r)), notes };
}

function flag(scope: CapabilityScope, evidence = 'x'): Grant {
  return { scope, denials: [denial(evidence, 'ChildProcess')], notes: [] };
}

/** Grants as `scope path(kind)` strings, in order. */
const show = (gs: readonly Grant[]): string[] => gs.map((g) => (g.path === undefined ? g.scope : `${g.scope} ${g.path}(${g.kind})`));

describe('grantKey', () => {
  it.each<[Grant, Grant, boolean]>([
    [fs('fs.read', '/x/a'), fs('fs.read', '/x/a'), true],
    [fs('fs.read', '/x/a', 'file'), fs('fs.read', '/x/a', 'missing'), true],
    [fs('fs.read', '/x/a', 'dir'), fs('fs.read', '/x/a', 'created-dir'), false],
    [fs('fs.read', '/x/a'), fs('fs.write', '/x/a'), false],
    [flag('child'), flag('child', 'other'), true],
    [flag('child'), flag('worker'), false],
  ])('%#: same key %s', (a, b, same) => {
    expect(grantKey(a) === grantKey(b)).toBe(same);
  });
});

describe('findCovering', () => {
  const grants = [fs('fs.read', '/app', 'dir'), fs('fs.write', '/app/out.txt'), flag('child')];
  it.each<[Scope, string | undefined, number | undefined]>([
    ['fs.read', '/app/src/a.js', 0],
    ['fs.read', '/app', 0],
    ['fs.read', '/apps', undefined],
    ['fs.write', '/app/out.txt', 1],
    ['fs.write', '/app/src/a.js', undefined],
    ['child', undefined, 2],
    ['worker', undefined, undefined],
    // a boolean scope never matches with a path, and an fs scope never without one
    ['child', '/app', undefined],
    ['fs.read', undefined, undefined],
  ])('%s %s → grant #%s', (scope, target, index) => {
    const found = findCovering(grants, scope, target);
    expect(found).toBe(index === undefined ? undefined : grants[index]);
  });
});

describe('normaliseGrants', () => {
  it('merges duplicates, keeping every denial as evidence and each note once', () => {
    const note: GrantNote = { code: 'created-at-run-time', detail: 'd' };
    const out = normaliseGrants([
      fs('fs.read', '/app/a.js', 'file', ['a.js'], [note]),
      fs('fs.read', '/app/a.js', 'file', ['./a.js'], [note]),
      fs('fs.read', '/app/a.js', 'file', ['/app/a.js']),
      flag('child', 'true'),
      flag('child', '/bin/sh'),
    ]);
    expect(show(out)).toEqual(['fs.read /app/a.js(file)', 'child']);
    expect(out[0]!.denials.map((d) => d.resource)).toEqual(['a.js', './a.js', '/app/a.js']);
    expect(out[0]!.notes).toEqual([note]);
    expect(out[1]!.denials.map((d) => d.resource)).toEqual(['true', '/bin/sh']);
  });

  it('gives a covered grant’s evidence to the grant that covers it, not its notes (Eleventy: the project read whole)', () => {
    const deps: GrantNote = { code: 'generalised', detail: '--granularity deps: every dependency in /app/node_modules' };
    const project: GrantNote = { code: 'accepted-broad', detail: 'the project root: accepted with --accept-broad' };
    const out = normaliseGrants([
      fs('fs.read', '/app/node_modules', 'dir', ['/app/node_modules/x/index.js'], [deps]),
      fs('fs.read', '/app', 'dir', ['/app'], [project]),
    ]);
    expect(show(out)).toEqual(['fs.read /app(dir)']);
    expect(out[0]!.denials.map((d) => d.resource)).toEqual(['/app', '/app/node_modules/x/index.js']);
    expect(out[0]!.notes).toEqual([project]);
  });

  it('does not change its input', () => {
    const input = [fs('fs.read', '/app', 'dir'), fs('fs.read', '/app/a.js'), fs('fs.read', '/app/a.js')];
    const snapshot = JSON.parse(JSON.stringify(input));
    normaliseGrants(input);
    expect(JSON.parse(JSON.stringify(input))).toEqual(snapshot);
  });

  it.each<[name: string, input: Grant[], kept: string[]]>([
    ['a file under a dir', [fs('fs.read', '/app/a.js'), fs('fs.read', '/app', 'dir')], ['fs.read /app(dir)']],
    ['a dir under a dir', [fs('fs.read', '/app/lib', 'dir'), fs('fs.read', '/app', 'dir')], ['fs.read /app(dir)']],
    ['the exact dir under D/*', [fs('fs.write', '/out', 'missing'), fs('fs.write', '/out', 'created-dir')], ['fs.write /out(created-dir)']],
    ['the exact dir under D/*, listed after it', [fs('fs.write', '/out', 'created-dir'), fs('fs.write', '/out', 'missing')], ['fs.write /out(created-dir)']],
    ['a file under D/*', [fs('fs.write', '/out/log', 'file'), fs('fs.write', '/out', 'created-dir')], ['fs.write /out(created-dir)']],
    ['a dir under a prefix', [fs('fs.write', '/tmp/app-1', 'dir'), fs('fs.write', '/tmp/app-', 'prefix')], ['fs.write /tmp/app-(prefix)']],
    ['a longer prefix under a shorter one', [fs('fs.write', '/tmp/app-x', 'prefix'), fs('fs.write', '/tmp/app-', 'prefix')], ['fs.write /tmp/app-(prefix)']],
    ['a prefix under a dir', [fs('fs.write', '/tmp/t/app-', 'prefix'), fs('fs.write', '/tmp/t', 'dir')], ['fs.write /tmp/t(dir)']],
    ['a sibling on a segment boundary', [fs('fs.read', '/app', 'dir'), fs('fs.read', '/apple', 'dir')], ['fs.read /app(dir)', 'fs.read /apple(dir)']],
    [
      'a dir under an exact (missing) path',
      [fs('fs.write', '/out', 'missing'), fs('fs.write', '/out/sub', 'dir')],
      ['fs.write /out(missing)', 'fs.write /out/sub(dir)'],
    ],
    ['a path below an exact file grant', [fs('fs.read', '/x/a', 'file'), fs('fs.read', '/x/a/b', 'file')], ['fs.read /x/a(file)', 'fs.read /x/a/b(file)']],
    ['the same path in the other scope', [fs('fs.read', '/app', 'dir'), fs('fs.write', '/app/out.txt')], ['fs.read /app(dir)', 'fs.write /app/out.txt(file)']],
  ])('covered grants: %s', (_name, input, kept) => {
    expect(show(normaliseGrants(input))).toEqual(kept);
  });

  it('an exact grant on P does not make the prefix grant P* redundant', () => {
    const out = normaliseGrants([fs('fs.write', '/tmp/app-', 'file'), fs('fs.write', '/tmp/app-', 'prefix')]);
    expect(show(out)).toEqual(['fs.write /tmp/app-(file)', 'fs.write /tmp/app-(prefix)']);
  });

  it('of a dir grant D and a created-dir grant D/* on the same path, D/* survives with both denials', () => {
    const out = normaliseGrants([fs('fs.read', '/x/d', 'dir', ['a']), fs('fs.read', '/x/d', 'created-dir', ['b'])]);
    expect(out).toHaveLength(1);
    expect(out[0]!.kind).toBe('created-dir');
    expect(out[0]!.denials.map((d) => d.resource).sort()).toEqual(['a', 'b']);
  });

  it('moves the evidence of a covered grant to the grant that covers it', () => {
    const out = normaliseGrants([fs('fs.read', '/app/a.js', 'file', ['a.js']), fs('fs.read', '/app', 'dir', ['/app'])]);
    expect(out).toHaveLength(1);
    expect(out[0]!.denials.map((d) => d.resource).sort()).toEqual(['/app', 'a.js']);
  });

  it('sorts read before write, parents before children, booleans after fs in a fixed order', () => {
    const out = normaliseGrants([
      flag('ffi'),
      flag('net'),
      fs('fs.write', '/w/b'),
      flag('inspector'),
      fs('fs.read', '/r/a-b'),
      flag('child'),
      fs('fs.read', '/r/a/x', 'file'),
      flag('openssl.store'),
      fs('fs.read', '/r/a', 'file'),
      flag('wasi'),
      fs('fs.write', '/w/a'),
      flag('addon'),
      flag('worker'),
    ]);
    expect(show(out)).toEqual([
      'fs.read /r/a(file)',
      'fs.read /r/a-b(file)',
      'fs.read /r/a/x(file)',
      'fs.write /w/a(file)',
      'fs.write /w/b(file)',
      'child',
      'worker',
      'addon',
      'wasi',
      'inspector',
      'openssl.store',
      'net',
      'ffi',
    ]);
  });

  it('a parent always precedes its child, whatever characters sort between them', () => {
    const paths = ['/n/cookie-signature', '/n/cookie/lib/x.js', '/n/cookie', '/n/cookie.js', '/n/cookie!', '/n/cookie/a'];
    const order = show(normaliseGrants(paths.map((p) => fs('fs.read', p)))).map((s) => s.slice('fs.read '.length, -'(file)'.length));
    expect(new Set(order)).toEqual(new Set(paths));
    for (const child of order) {
      for (const parent of order) {
        if (child.startsWith(`${parent}/`)) expect(order.indexOf(parent)).toBeLessThan(order.indexOf(child));
      }
    }
  });
});

describe('renderGrantFlag', () => {
  it.each<[Grant, string]>([
    [fs('fs.read', '/x/f'), '--allow-fs-read=/x/f'],
    [fs('fs.write', '/x/new', 'created-dir'), '--allow-fs-write=/x/new/*'],
    [fs('fs.write', '/tmp/app-', 'prefix'), '--allow-fs-write=/tmp/app-*'],
    [fs('fs.read', '/x/with space'), '--allow-fs-read=/x/with space'],
    [flag('child'), '--allow-child-process'],
    [flag('worker'), '--allow-worker'],
    [flag('addon'), '--allow-addons'],
    [flag('wasi'), '--allow-wasi'],
    [flag('inspector'), '--allow-inspector'],
    [flag('openssl.store'), '--allow-openssl-store'],
    [flag('net'), '--allow-net'],
    [flag('ffi'), '--allow-ffi'],
  ])('%# → %s', (g, rendered) => {
    expect(renderGrantFlag(g)).toBe(rendered);
  });
});

describe('renderFlags', () => {
  const grants = [
    flag('worker'),
    fs('fs.read', '/app/a.js'),
    fs('fs.read', '/app', 'dir'),
    fs('fs.write', '/app/out', 'created-dir'),
    fs('fs.read', '/app', 'dir'),
  ];
  const rest = ['--allow-fs-read=/app', '--allow-fs-write=/app/out/*', '--allow-worker'];
  it.each<[string, string]>([
    ['v20.20.2', '--experimental-permission'],
    ['v22.12.0', '--experimental-permission'],
    ['v22.13.0', '--permission'],
    ['v22.23.3', '--permission'],
    ['v23.4.0', '--experimental-permission'],
    ['v23.5.0', '--permission'],
    ['v24.21.0', '--permission'],
    ['v26.10.0', '--permission'],
  ])('Node %s: %s first, then the normalised grants', (version, enable) => {
    expect(renderFlags(grants, caps(version))).toEqual([enable, ...rest]);
  });

  it('no grants: only the enable flag', () => {
    expect(renderFlags([], caps('v26.10.0'))).toEqual(['--permission']);
  });

  it('never repeats a grant, even one given with and without its evidence twice (Node 20 aborts on duplicates)', () => {
    const flags = renderFlags([fs('fs.read', '/app/index.js'), fs('fs.read', '/app/index.js', 'missing'), fs('fs.read', '/app/index.js')], caps('v20.20.2'));
    expect(flags).toEqual(['--experimental-permission', '--allow-fs-read=/app/index.js']);
  });
});
