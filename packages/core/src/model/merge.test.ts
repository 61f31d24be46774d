import { describe, expect, it } from 'vitest';
import { describeSeen, mergeProfiles } from './merge.js';
import type { Profile, ProfileGrant } from './profile.js';
import type { Denial, PermissionName, PathKind, Scope } from './types.js';
import { testProfile } from '../../../../test/helpers/profile.js';

const read = (resource: string): Denial => ({ permission: 'FileSystemRead', resource, code: 'ERR_ACCESS_DENIED', source: 'uncaught', by: 'app' });
const use = (permission: PermissionName): Denial => ({ permission, resource: '', code: 'ERR_ACCESS_DENIED', source: 'uncaught' });
const FLAG: Record<string, string> = { 'fs.read': '--allow-fs-read', child: '--allow-child-process', net: '--allow-net' };

function grant(scope: Scope, p?: [string, PathKind], denials: Denial[] = []): ProfileGrant {
  const g = { scope, flag: p ? `${FLAG[scope]}=${p[0]}` : FLAG[scope]!, denials, notes: [] } as ProfileGrant;
  return p ? Object.assign(g, { path: p[0], kind: p[1] }) : g;
}
function profile(cwd: string, grants: ProfileGrant[], extra: Partial<Profile> = {}): Profile {
  return testProfile({ cwd, grants, node: 'v24.21.0', entry: `${cwd}/app.js`, flags: [], ...extra });
}

describe('mergeProfiles', () => {
  it('the union, normalised, with how many runs asked for each grant', () => {
    const a = profile('/w', [
      grant('fs.read', ['/w/a.txt', 'file'], [read('/w/a.txt')]),
      grant('fs.read', ['/w/common.json', 'file'], [read('/w/common.json')]),
    ]);
    const b = profile('/w', [
      grant('fs.read', ['/w/b.txt', 'file'], [read('/w/b.txt')]),
      grant('fs.read', ['/w/common.json', 'file'], [read('/w/common.json')]),
      grant('child', undefined, [use('ChildProcess')]),
    ]);
    const m = mergeProfiles([
      { profile: a, name: 'a.json' },
      { profile: b, name: 'b.json' },
    ]);
    expect(m.flags).toEqual([
      '--permission',
      '--allow-fs-read=/w/a.txt',
      '--allow-fs-read=/w/b.txt',
      '--allow-fs-read=/w/common.json',
      '--allow-child-process',
    ]);
    expect(m.grants.map((g) => [g.flag, describeSeen(g.seen)])).toEqual([
      ['--allow-fs-read=/w/a.txt', 'seen in 1 of 2 runs'],
      ['--allow-fs-read=/w/b.txt', 'seen in 1 of 2 runs'],
      ['--allow-fs-read=/w/common.json', 'seen in 2 of 2 runs'],
      ['--allow-child-process', 'seen in 1 of 2 runs'],
    ]);
    // The same resource seen in both runs is one piece of evidence with its hits added up.
    expect(m.grants[2]!.denials).toEqual([{ ...read('/w/common.json'), hits: 2 }]);
    expect(m).toMatchObject({ verified: true, status: 'verified', runs: 6, merged: { from: ['a.json', 'b.json'], verified: false } });
  });

  it('a directory in one run absorbs the files of another, and counts both', () => {
    const a = profile('/w', [grant('fs.read', ['/w/lib', 'dir'], [read('/w/lib/x.js')])]);
    const b = profile('/w', [grant('fs.read', ['/w/lib/y.js', 'file'], [read('/w/lib/y.js')])]);
    const m = mergeProfiles([
      { profile: a, name: 'a' },
      { profile: b, name: 'b' },
    ]);
    expect(m.grants).toHaveLength(1);
    expect(m.grants[0]).toMatchObject({ path: '/w/lib', seen: { runs: 2, of: 2 } });
    expect(m.grants[0]!.denials.map((d) => d.resource)).toEqual(['/w/lib/x.js', '/w/lib/y.js']);
  });

  it("profiles from another checkout move to the first one's", () => {
    const a = profile('/ci/repo', [grant('fs.read', ['/ci/repo/a.txt', 'file'], [read('/ci/repo/a.txt')])]);
    const b = profile('/home/me/repo', [grant('fs.read', ['/home/me/repo/a.txt', 'file'], [read('/home/me/repo/a.txt')])]);
    const m = mergeProfiles([
      { profile: a, name: 'a' },
      { profile: b, name: 'b' },
    ]);
    expect(m.grants.map((g) => [g.path, g.seen.runs])).toEqual([['/ci/repo/a.txt', 2]]);
  });

  it('the newest Node decides; an unverified input makes the result unverified', () => {
    const a = profile('/w', [grant('fs.read', ['/w/a.txt', 'file'], [read('/w/a.txt')])], { node: 'v22.23.3' });
    const b = profile('/w', [grant('net', undefined, [use('Net')])], { node: 'v26.10.0', verified: false, status: 'app-failed', reason: 'boom' });
    const m = mergeProfiles([
      { profile: a, name: 'a.json' },
      { profile: b, name: 'b.json' },
    ]);
    expect(m.node).toBe('v26.10.0');
    expect(m.flags).toEqual(['--permission', '--allow-fs-read=/w/a.txt', '--allow-net']);
    expect(m).toMatchObject({ verified: false, status: 'app-failed', reason: 'b.json did not verify (app-failed: boom)' });
    expect(m.warnings).toContain('merged profiles learned under v22.23.3, v26.10.0; the result is for v26.10.0, the newest');
  });

  it('nothing to merge is a usage error', () => {
    expect(() => mergeProfiles([])).toThrow(/nothing to merge/);
  });
});
