import { describe, expect, it } from 'vitest';
import { compareProfiles } from './compare.js';
import { relocateProfile, displayFlag } from './relocate.js';
import type { Profile, ProfileGrant } from './profile.js';
import type { Denial, PermissionName, PathKind, Scope } from './types.js';
import { testProfile } from '../../../../test/helpers/profile.js';

const read = (resource: string, by = 'app', at?: string): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'uncaught',
  by,
  ...(at ? { at } : {}),
});
const write = (resource: string): Denial => ({ permission: 'FileSystemWrite', resource, code: 'ERR_ACCESS_DENIED', source: 'uncaught' });
const use = (permission: PermissionName): Denial => ({ permission, resource: '', code: 'ERR_ACCESS_DENIED', source: 'uncaught' });

const FLAG: Record<string, string> = {
  'fs.read': '--allow-fs-read',
  'fs.write': '--allow-fs-write',
  child: '--allow-child-process',
  net: '--allow-net',
  worker: '--allow-worker',
};
function grant(scope: Scope, pathKind?: [string, PathKind], denials: Denial[] = []): ProfileGrant {
  const g = { scope, flag: FLAG[scope]!, denials, notes: [] } as ProfileGrant;
  if (pathKind) {
    Object.assign(g, { path: pathKind[0], kind: pathKind[1] });
    g.flag = `${FLAG[scope]}=${pathKind[1] === 'created-dir' ? `${pathKind[0]}/*` : pathKind[1] === 'prefix' ? `${pathKind[0]}*` : pathKind[0]}`;
  }
  return g;
}
function profile(cwd: string, grants: ProfileGrant[], node = 'v26.10.0'): Profile {
  return testProfile({ cwd, grants, node, flags: ['--permission', ...grants.map((g) => g.flag)] });
}

describe('compareProfiles', () => {
  const A = '/home/ci/work/repo/svc';
  const B = '/Users/me/src/repo/svc';

  it('the same needs learned in another checkout: nothing added, nothing unused', () => {
    const committed = profile(B, [
      grant('fs.read', [`${B}/config.json`, 'file'], [read(`${B}/config.json`)]),
      grant('fs.write', [`${B}/logs`, 'created-dir'], [write(`${B}/logs/app.log`)]),
      grant('net', undefined, [use('Net')]),
    ]);
    const current = profile(A, [
      grant('fs.read', [`${A}/config.json`, 'file'], [read(`${A}/config.json`)]),
      grant('fs.write', [`${A}/logs`, 'created-dir'], [write(`${A}/logs/app.log`)]),
      grant('net', undefined, [use('Net')]),
    ]);
    const cmp = compareProfiles(committed, current, { root: '/home/ci/work/repo' });
    expect(cmp).toMatchObject({ added: [], unused: [], kept: 3 });
  });

  it('a new read, with who asked; a grant nothing asked for any more', () => {
    const committed = profile(B, [
      grant('fs.read', [`${B}/config.json`, 'file'], [read(`${B}/config.json`)]),
      grant('child', undefined, [use('ChildProcess')]),
    ]);
    const current = profile(A, [
      grant('fs.read', [`${A}/config.json`, 'file'], [read(`${A}/config.json`)]),
      grant('fs.read', [`${A}/node_modules`, 'dir'], [read(`${A}/node_modules/yaml/dist/index.js`, 'yaml@2.0.0', 'dist/index.js:3')]),
    ]);
    const cmp = compareProfiles(committed, current, { root: A });
    expect(cmp.added).toEqual([
      {
        scope: 'fs.read',
        flag: `--allow-fs-read=${A}/node_modules`,
        path: `${A}/node_modules`,
        kind: 'dir',
        evidence: [read(`${A}/node_modules/yaml/dist/index.js`, 'yaml@2.0.0', 'dist/index.js:3')],
      },
    ]);
    expect(cmp.unused).toEqual([{ scope: 'child', flag: '--allow-child-process', evidence: [use('ChildProcess')] }]);
    expect(cmp.kept).toBe(1);
  });

  it.each([
    [
      'a wider committed grant covers a narrower need',
      grant('fs.read', [`${B}/lib`, 'dir']),
      grant('fs.read', [`${A}/lib/a.js`, 'file'], [read(`${A}/lib/a.js`)]),
      0,
      0,
    ],
    [
      'a need widened differently but asked for the same file',
      grant('fs.read', [`${B}/lib/a.js`, 'file'], [read(`${B}/lib/a.js`)]),
      grant('fs.read', [`${A}/lib`, 'dir'], [read(`${A}/lib/a.js`)]),
      0,
      0,
    ],
    [
      'a wider need for a file the profile lacks',
      grant('fs.read', [`${B}/lib/a.js`, 'file'], [read(`${B}/lib/a.js`)]),
      grant('fs.read', [`${A}/lib`, 'dir'], [read(`${A}/lib/b.js`)]),
      1,
      1,
    ],
    [
      'an exact grant for a folder the app now creates',
      grant('fs.write', [`${B}/logs`, 'missing'], [write(`${B}/logs`)]),
      grant('fs.write', [`${A}/logs`, 'created-dir'], [write(`${A}/logs/app.log`)]),
      1,
      0,
    ],
    [
      'an mkdtemp prefix',
      grant('fs.write', ['/tmp/app-', 'prefix'], [write('/tmp/app-XXXXXX')]),
      grant('fs.write', ['/tmp/app-', 'prefix'], [write('/tmp/app-XXXXXX')]),
      0,
      0,
    ],
    ['read is not write', grant('fs.write', [`${B}/data.json`, 'file']), grant('fs.read', [`${A}/data.json`, 'file'], [read(`${A}/data.json`)]), 1, 1],
    [
      'a path outside the project does not move',
      grant('fs.read', ['/etc/ssl/cert.pem', 'file']),
      grant('fs.read', ['/etc/ssl/cert.pem', 'file'], [read('/etc/ssl/cert.pem')]),
      0,
      0,
    ],
    [
      'a relative resource resolves against its cwd',
      grant('fs.read', [`${B}/x.txt`, 'file']),
      grant('fs.read', [`${A}/x.txt`, 'file'], [{ ...read('x.txt'), cwd: A }]),
      0,
      0,
    ],
    ['a grant without evidence compares by path', grant('fs.read', [`${B}/lib`, 'dir']), grant('fs.read', [`${A}/lib/z`, 'file']), 0, 0],
  ])('%s', (_name, before, now, added, unused) => {
    const cmp = compareProfiles(profile(B, [before]), profile(A, [now]), { root: A });
    expect(cmp.added).toHaveLength(added);
    expect(cmp.unused).toHaveLength(unused);
  });

  it('the network before 26 is neither needed nor unused; learned on 22 and checked on 26 it is new', () => {
    const on26 = profile(B, [grant('net', undefined, [use('Net')])]);
    const on22 = profile(A, [], 'v22.23.3');
    expect(compareProfiles(on26, on22, { root: A })).toMatchObject({ added: [], unused: [], kept: 0, unenforced: ['net'] });
    const back = compareProfiles(profile(B, [], 'v22.23.3'), profile(A, [grant('net', undefined, [use('Net')])]), { root: A });
    expect(back.added.map((a) => a.scope)).toEqual(['net']);
  });

  it('without a root, only the cwd moves', () => {
    const cmp = compareProfiles(
      profile(B, [grant('fs.read', ['/Users/me/src/repo/shared/x.js', 'file'])]),
      profile(A, [grant('fs.read', ['/home/ci/work/repo/shared/x.js', 'file'], [read('/home/ci/work/repo/shared/x.js')])]),
    );
    expect(cmp.added).toHaveLength(1);
    const withRoot = compareProfiles(
      profile(B, [grant('fs.read', ['/Users/me/src/repo/shared/x.js', 'file'])]),
      profile(A, [grant('fs.read', ['/home/ci/work/repo/shared/x.js', 'file'], [read('/home/ci/work/repo/shared/x.js')])]),
      { root: '/home/ci/work/repo' },
    );
    expect(withRoot.added).toHaveLength(0);
  });
});

describe('relocate', () => {
  it('moves grants, evidence, cwd and entry; leaves the rest', () => {
    const p = profile('/old/repo/svc', [
      grant('fs.read', ['/old/repo/svc/data', 'dir'], [{ ...read('data/a.txt'), cwd: '/old/repo/svc', site: '/old/repo/svc/index.js:3:9' }]),
      grant('fs.read', ['/etc/hosts', 'file']),
    ]);
    const moved = relocateProfile(p, { cwd: '/new/svc', root: '/new' });
    expect(moved).toMatchObject({
      cwd: '/new/svc',
      entry: '/new/svc/index.js',
      flags: ['--permission', '--allow-fs-read=/new/svc/data', '--allow-fs-read=/etc/hosts'],
    });
    expect(moved.grants[0]!.denials[0]).toMatchObject({ resource: '/new/svc/data/a.txt', cwd: '/new/svc', site: '/new/svc/index.js:3:9' });
  });

  // movePath and relativePath themselves are table-tested in paths/relative.test.ts.
  it('displayFlag keeps the wildcard forms', () => {
    expect(displayFlag({ scope: 'fs.write', path: '/w/svc/logs', kind: 'created-dir' }, { cwd: '/w/svc', root: '/w' })).toBe('--allow-fs-write=./logs/*');
    expect(displayFlag({ scope: 'child' }, { cwd: '/w/svc', root: '/w' })).toBe('--allow-child-process');
  });
});
