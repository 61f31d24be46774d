import { describe, expect, it } from 'vitest';
import { acceptHint, breadthViolation, isAccepted, type BreadthCode } from './breadth.js';
import type { PathKind } from './types.js';

const ctx = { homedir: '/home/u', root: '/home/u/work/app', tmpdir: '/tmp' };

describe('breadthViolation', () => {
  it.each<[path: string, kind: PathKind, code: BreadthCode | undefined]>([
    // everything, top-level folders, home and above
    ['/', 'dir', 'root-dir'],
    ['/', 'file', 'root-dir'],
    ['/etc', 'dir', 'top-level'],
    ['/usr', 'created-dir', 'top-level'],
    ['/home', 'dir', 'home'],
    ['/home/u', 'dir', 'home'],
    ['/home/u', 'file', 'home'],
    // above the project, and the temporary directory itself
    ['/home/u/work', 'dir', 'project-ancestor'],
    ['/tmp', 'dir', 'tmpdir'],
    // a top-level file, not a folder: an exact grant of one thing
    ['/.dockerenv', 'file', undefined],
    ['/.dockerenv', 'missing', undefined],
    // the project, its folders, the home folder's own folders, a folder in /tmp: fine
    ['/home/u/work/app', 'dir', undefined],
    ['/home/u/work/app/logs', 'created-dir', undefined],
    ['/home/u/.cache/tool', 'dir', undefined],
    ['/home/u/work/other', 'dir', undefined],
    ['/etc/ssl/certs', 'dir', undefined],
    ['/tmp/app-1', 'dir', undefined],
    // '*' in a name is a wildcard to Node, wherever it is
    ['/home/u/work/app/x*', 'file', 'wildcard-name'],
    ['/home/u/work/app/*', 'missing', 'wildcard-name'],
    ['/home/u/wo*rk/app/f', 'file', 'wildcard-name'],
    ['/home/u/work/app/d*/f', 'prefix', 'wildcard-name'],
    // prefix wildcards, judged by what they reach
    ['/tmp/app-', 'prefix', undefined],
    ['/home/u/work/app/tmp-', 'prefix', undefined],
    ['/t', 'prefix', 'top-level'],
    ['/tmp/', 'prefix', 'tmpdir'],
    ['/srv/', 'prefix', 'top-level'],
    ['/home/u', 'prefix', 'home'],
    ['/home/', 'prefix', 'home'],
    ['/home/u/wo', 'prefix', 'project-ancestor'],
    ['/home/u/work/', 'prefix', 'project-ancestor'],
    ['/home/u/work/ap', 'prefix', undefined],
  ])('%s (%s) → %s', (p, kind, code) => {
    expect(breadthViolation({ scope: 'fs.read', path: p, kind }, ctx)?.code).toBe(code);
  });

  it('says what the grant would reach, with its value as Node is given it', () => {
    expect(breadthViolation({ scope: 'fs.write', path: '/home/u', kind: 'prefix' }, ctx)).toEqual({
      code: 'home',
      value: '/home/u*',
      reason: '/home/u* covers the home folder /home/u',
    });
    expect(breadthViolation({ scope: 'fs.read', path: '/tmp', kind: 'created-dir' }, ctx)).toEqual({
      code: 'tmpdir',
      value: '/tmp/*',
      reason: '/tmp/* would grant the whole temporary directory /tmp',
      instead:
        'or learn and run the app with TMPDIR set to a folder inside the project, a temporary folder of its own that is granted like any other project folder',
    });
    expect(breadthViolation({ scope: 'fs.read', path: '/home/u/work/app/x*', kind: 'file' }, ctx)?.reason).toBe(
      "/home/u/work/app/x* has a '*' in it, which Node reads as a wildcard: the grant would cover every path starting with /home/u/work/app/x",
    );
  });

  it('offers an app that uses the temporary folder itself one of its own; other refusals only the acceptance', () => {
    const tmp = breadthViolation({ scope: 'fs.read', path: '/tmp', kind: 'dir' }, ctx)!;
    expect(acceptHint(tmp)).toBe(
      `if the app really needs it, accept it explicitly with --accept-broad '/tmp' (or "acceptBroad" in the config file), or learn and run the app with TMPDIR set to a folder inside the project, a temporary folder of its own that is granted like any other project folder`,
    );
    const home = breadthViolation({ scope: 'fs.write', path: '/home/u', kind: 'dir' }, ctx)!;
    expect(home.instead).toBeUndefined();
    expect(acceptHint(home)).toBe(`if the app really needs it, accept it explicitly with --accept-broad '/home/u' (or "acceptBroad" in the config file)`);
    const opt = breadthViolation({ scope: 'fs.read', path: '/opt', kind: 'dir' }, ctx)!;
    expect([opt.code, opt.instead]).toEqual(['top-level', undefined]);
  });

  it('names the symlink resolver for a read of a folder on the way down to the project', () => {
    for (const up of ['/', '/home', '/home/u', '/home/u/work']) {
      const v = breadthViolation({ scope: 'fs.read', path: up, kind: 'dir' }, ctx)!;
      expect(v.instead, up).toMatch(/^or, if this is a resolver following symbolic links \(fs\.realpath with a callback checks every folder from \/ down/);
    }
    // Without a project root nothing is "on the way".
    expect(breadthViolation({ scope: 'fs.read', path: '/home', kind: 'dir' }, { homedir: '/home/u' })!.instead).toBeUndefined();
  });

  it('leaves capabilities to the risk notes', () => {
    expect(breadthViolation({ scope: 'child' }, ctx)).toBeUndefined();
  });

  it('a temporary directory inside the project is the project’s', () => {
    expect(breadthViolation({ scope: 'fs.write', path: '/home/u/work/app/tmp', kind: 'dir' }, { ...ctx, tmpdir: '/home/u/work/app/tmp' })).toBeUndefined();
  });

  it('is accepted only for the exact value the user named', () => {
    const v = breadthViolation({ scope: 'fs.read', path: '/', kind: 'dir' }, ctx)!;
    expect(isAccepted(v, ['/'])).toBe(true);
    expect(isAccepted(v, ['/*', '/home'])).toBe(false);
    expect(isAccepted(v, undefined)).toBe(false);
  });
});
