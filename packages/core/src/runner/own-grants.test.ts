import { describe, expect, it } from 'vitest';
import { coveredByFlags } from './own-grants.js';

describe('coveredByFlags', () => {
  it.each<[flags: string[], scope: 'read' | 'write', p: string, covered: boolean]>([
    [['--permission', '--allow-fs-read=/tmp'], 'read', '/tmp/permlearn-a/recorder.cjs', true],
    [['--allow-fs-read=/tmp/permlearn-a/recorder.cjs'], 'read', '/tmp/permlearn-a/recorder.cjs', true],
    [['--allow-fs-read=/tmp/*'], 'read', '/tmp/permlearn-a/canary', true],
    [['--allow-fs-read=/tmp/perm*'], 'read', '/tmp/permlearn-a/canary', true],
    [['--allow-fs-read=*'], 'read', '/tmp/permlearn-a/canary', true],
    // a sibling sharing the prefix is not a parent
    [['--allow-fs-read=/tmp/perm'], 'read', '/tmp/permlearn-a/canary', false],
    [['--allow-fs-write=/tmp'], 'read', '/tmp/permlearn-a/recorder.cjs', false],
    [['--allow-fs-read=/tmp'], 'write', '/tmp/permlearn-a/events', false],
    [['--allow-fs-write=/tmp/permlearn-a'], 'write', '/tmp/permlearn-a/events', true],
    [['--allow-child-process'], 'read', '/tmp/x', false],
  ])('%j %s %s → %s', (flags, scope, p, covered) => {
    expect(coveredByFlags(flags, scope, p)).toBe(covered);
  });
});
