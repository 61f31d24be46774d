import { describe, expect, it } from 'vitest';
import { breadthViolation } from './profile-file.js';

const ctx = { homedir: '/home/ann', root: '/home/ann/work/app' };
const read = (path: string, kind: 'file' | 'dir' | 'missing' | 'created-dir' | 'prefix' = 'dir') => breadthViolation({ scope: 'fs.read', path, kind }, ctx);

describe('breadthViolation (stand-in for core breadth.ts)', () => {
  it.each<[string, Parameters<typeof read>[1], string | undefined]>([
    ['/', 'dir', 'the root directory'],
    ['/', 'created-dir', 'the root directory'],
    ['/etc', 'dir', 'the top-level directory /etc'],
    ['/home', 'dir', 'a directory containing the home directory'],
    ['/home/ann', 'dir', 'the home directory'],
    ['/home/ann/work', 'dir', 'a folder containing the project (/home/ann/work/app)'],
    ['/home/ann/work/app', 'dir', undefined],
    ['/home/ann/work/app/src', 'dir', undefined],
    ['/etc/hosts', 'file', undefined],
    // wildcards reach whatever starts with their literal part
    ['/t', 'prefix', 'the wildcard /t* reaches top-level folders'],
    ['/home/a', 'prefix', 'the wildcard /home/a* reaches /home/ann'],
    ['/home/ann/wo', 'prefix', 'the wildcard /home/ann/wo* reaches /home/ann/work'],
    ['/tmp/app-', 'prefix', undefined],
    ['/home/ann/*', 'file', 'the wildcard /home/ann/* reaches /home/ann'],
    ['/home/ann/work/app/x*', 'file', undefined],
  ])('%s (%s) → %s', (path, kind, why) => {
    expect(read(path, kind)).toBe(why);
  });

  it('boolean scopes have no breadth', () => {
    expect(breadthViolation({ scope: 'child' }, ctx)).toBeUndefined();
  });
});
