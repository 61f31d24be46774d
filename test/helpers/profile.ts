// A saved profile for unit tests: a verified run, with whatever the test sets on top.
import type { Profile } from '../../packages/core/src/model/profile.js';

export function testProfile(over: Partial<Profile> & Pick<Profile, 'cwd' | 'grants'>): Profile {
  return {
    permlearn: 1,
    node: 'v26.10.0',
    entry: `${over.cwd}/index.js`,
    args: [],
    flags: ['--permission'],
    runs: 3,
    strategy: 'audit',
    verified: true,
    status: 'verified',
    observed: [],
    ungrantable: [],
    warnings: [],
    ...over,
  };
}
