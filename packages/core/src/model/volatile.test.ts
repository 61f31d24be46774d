import { describe, expect, it } from 'vitest';
import { caseProbeOf, mergeSetAside, vetDenials, vetPath, type VolatileContext } from './volatile.js';
import type { Denial } from './types.js';

const ctx: VolatileContext = {
  tmpdir: '/tmp/u',
  compileCacheDirs: ['/var/cache/app-ccache'],
  known: ['/home/ann/Projects/app', '/tmp/u'],
  permlearnOwn: (p) => (p.startsWith('/opt/permlearn/') ? 'inside permlearn' : undefined),
};

const read = (resource: string, source: Denial['source'] = 'caught'): Denial => ({ permission: 'FileSystemRead', resource, code: 'ERR_ACCESS_DENIED', source });

describe('vetPath', () => {
  it.each([
    ['/proc/4711/stat', 'set-aside', 'per-process'],
    ['/proc/4711', 'set-aside', 'per-process'],
    ['/proc/self/status', 'keep', undefined],
    ['/proc/thread-self/comm', 'keep', undefined],
    ['/tmp/u/node-compile-cache/v26.10.0-x64-310b2ce3-0', 'set-aside', 'compile-cache'],
    ['/tmp/u/node-compile-cache', 'set-aside', 'compile-cache'],
    ['/var/cache/app-ccache/x', 'set-aside', 'compile-cache'],
    ['/srv/cache/v22.23.3-arm64-9ac5647c-1000/index', 'set-aside', 'compile-cache'],
    ['/HOME/ANN/PROJECTS/APP', 'set-aside', 'case-probe'],
    ['/home/ann/projects/app/src', 'set-aside', 'case-probe'],
    ['/home/ann/Projects/app/src', 'keep', undefined],
    ['/home/ann/Projects/apple', 'keep', undefined],
    ['/opt/permlearn/node_modules/yargs/index.js', 'set-aside', 'permlearn'],
    ['/tmp/u/v1.2.3-notes.txt', 'keep', undefined],
    // The version-and-hash name counts only as a whole segment.
    ['/srv/cache/v22.23.3-arm64-9ac5647c', 'set-aside', 'compile-cache'],
    ['/srv/cache/xv22.23.3-arm64-9ac5647c-1/index', 'keep', undefined],
    ['/srv/cache/v22.23.3-arm64-9ac5647c-1x/index', 'keep', undefined],
    ['/srv/cache/v22.23.3-arm64-9ac5647c-/index', 'keep', undefined],
  ])('%s: %s %s', (p, action, kind) => {
    const v = vetPath(p, ctx);
    expect(v.action).toBe(action);
    if (v.action === 'set-aside') expect(v.kind).toBe(kind);
  });

  it('puts a numbered /proc/self path in the stable form of its folder', () => {
    expect(vetPath('/proc/self/fd/17', ctx)).toMatchObject({ action: 'stable', path: '/proc/self/fd' });
    expect(vetPath('/proc/self/task/4712/stat', ctx)).toMatchObject({ action: 'stable', path: '/proc/self/task' });
  });
});

describe('caseProbeOf', () => {
  it('finds the known path a case-changed copy starts with, on a segment boundary', () => {
    expect(caseProbeOf('/TMP/U/X', ['/tmp/u'])).toBe('/tmp/u');
    expect(caseProbeOf('/tmp/u/X', ['/tmp/u'])).toBeUndefined();
    expect(caseProbeOf('/TMP/UX', ['/tmp/u'])).toBeUndefined();
  });
});

describe('vetDenials', () => {
  it('sets aside what changes from run to run, keeps the rest, and restates numbered /proc/self paths', () => {
    const ds = [read('/proc/99/stat'), read('/etc/hosts'), read('/proc/self/fd/3')];
    const v = vetDenials(ds, ctx, true);
    expect(v.keep.map((d) => d.resource)).toEqual(['/etc/hosts', '/proc/self/fd']);
    expect(v.setAside).toMatchObject([{ kind: 'per-process', path: '/proc/99/stat', optional: true }]);
    expect([...v.restated.values()][0]).toMatch(/granted as its folder \/proc\/self\/fd/);
  });

  it('grants a case probe as it is when the app cannot do without it, with the reason', () => {
    const probe = read('/HOME/ANN/PROJECTS/APP', 'uncaught');
    const v = vetDenials([probe], ctx, false);
    expect(v.keep).toEqual([probe]);
    expect(v.restated.get(probe)).toMatch(/the app fails without it/);
  });

  it('marks a need the app died of as not optional', () => {
    const v = vetDenials([read('/proc/99/stat', 'uncaught')], ctx, false);
    expect(v.setAside[0]!.optional).toBe(false);
  });

  it('passes everything through without a context', () => {
    const ds = [read('/proc/99/stat')];
    expect(vetDenials(ds, undefined, true).keep).toEqual(ds);
  });
});

describe('mergeSetAside', () => {
  it('lists a path once, optional only if every run got by without it', () => {
    const a = vetDenials([read('/proc/99/stat')], ctx, true).setAside;
    const b = vetDenials([read('/proc/99/stat', 'uncaught')], ctx, false).setAside;
    expect(mergeSetAside([...a, ...b])).toMatchObject([{ path: '/proc/99/stat', optional: false }]);
  });
});
