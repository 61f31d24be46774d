import { describe, expect, it } from 'vitest';
import { childLostFlags, describeLost, lostInChild, soleCause } from './child-flags.js';
import type { Denial } from './types.js';

const app = ['--permission', '--allow-fs-read=/app/conf', '--allow-fs-read=/app/data', '--allow-child-process'];
const denial = (given?: Denial['given'], thread: Denial['thread'] = 'child'): Denial => ({
  permission: 'FileSystemRead',
  resource: '/app/data/rows.json',
  code: 'ERR_ACCESS_DENIED',
  source: 'uncaught',
  thread,
  ...(given ? { given } : {}),
});

describe('lostInChild', () => {
  it('names the grants a child rebuilt one value per flag lost, and why', () => {
    const lost = lostInChild(denial({ execArgv: ['--permission', '--allow-fs-read=/app/data', '--allow-child-process'], nodeOptions: [] }), app);
    expect(lost).toEqual({
      lost: ['--allow-fs-read=/app/conf'],
      why: 'a Node child was started with only --allow-fs-read=/app/data --allow-child-process in its execArgv: its parent rebuilt its execArgv with one value per flag (a key→value map keeps only the last --allow-fs-read)',
    });
    expect(describeLost(lost!)).toBe(`${lost!.why}; it lost --allow-fs-read=/app/conf`);
  });

  it('counts what NODE_OPTIONS gave the child', () => {
    expect(lostInChild(denial({ execArgv: ['--permission'], nodeOptions: app }), app)).toBeUndefined();
  });

  it('says an execArgv of its own when no flag was merely cut to one value', () => {
    const lost = lostInChild(denial({ execArgv: ['--permission'], nodeOptions: [] }), ['--permission', '--allow-fs-read=/app/data']);
    expect(lost?.why).toBe('a Node child was started with no grant in its execArgv: its parent started it with an execArgv of its own');
    expect(lost?.lost).toEqual(['--allow-fs-read=/app/data']);
  });

  it("is nothing without the child's own word, or outside a child", () => {
    expect(lostInChild(denial(), app)).toBeUndefined();
    expect(lostInChild(denial({ execArgv: [], nodeOptions: [] }, 'main'), app)).toBeUndefined();
  });

  it("leaves permlearn's own grants out of what it shows", () => {
    const own = new Set(['--allow-fs-read=/tmp/s/canary', '--allow-fs-read=/tmp/s/recorder.cjs']);
    const passed = ['--permission-audit', '--allow-fs-read=/tmp/s/canary', '--allow-fs-read=/tmp/s/recorder.cjs'];
    const lost = lostInChild(denial({ execArgv: ['--permission-audit', '--allow-fs-read=/tmp/s/recorder.cjs'], nodeOptions: [] }), passed, own);
    expect(lost).toEqual({
      lost: [],
      why: 'a Node child was started with no grant in its execArgv: its parent rebuilt its execArgv with one value per flag (a key→value map keeps only the last --allow-fs-read)',
    });
    expect(describeLost(lost!)).toBe(lost!.why);
  });
});

describe('childLostFlags', () => {
  const passed = ['--permission', '--allow-fs-read=/s/canary', '--allow-fs-read=/app/data', '--allow-fs-read=/s/rec.cjs'];
  it("finds a child started from the run's flags that lost some", () => {
    const found = childLostFlags(
      [{ thread: 'main' }, { thread: 'child', main: '/app/worker.js', given: { execArgv: ['--permission', '--allow-fs-read=/s/rec.cjs'], nodeOptions: [] } }],
      passed,
      new Set(['--allow-fs-read=/s/canary', '--allow-fs-read=/s/rec.cjs']),
    );
    expect(found?.lost).toEqual(['--allow-fs-read=/app/data']);
    expect(found?.why).toMatch(/^a Node child \(\/app\/worker\.js\) was started with no grant/);
  });

  it('ignores children with no grant in their execArgv (spawned: 22+ passes them in NODE_OPTIONS) and children that have them all', () => {
    expect(childLostFlags([{ thread: 'child', given: { execArgv: [], nodeOptions: ['--permission'] } }], passed)).toBeUndefined();
    expect(childLostFlags([{ thread: 'child', given: { execArgv: passed, nodeOptions: [] } }], passed)).toBeUndefined();
    expect(childLostFlags([{ thread: 'child' }], passed)).toBeUndefined();
  });
});

describe('soleCause', () => {
  const d = (source: Denial['source'], resource: string): Denial => ({ permission: 'FileSystemWrite', resource, code: 'ERR_ACCESS_DENIED', source });
  it('is the one denial of a failed run, module loads aside', () => {
    const only = d('caught', '/app/reports/sum.json');
    expect(soleCause(false, [only, d('loaded', '/app/x.js')])).toBe(only);
  });
  it('is nothing for a run that succeeded, or one with several denials', () => {
    expect(soleCause(true, [d('caught', '/a')])).toBeUndefined();
    expect(soleCause(false, [d('caught', '/a'), d('caught', '/b')])).toBeUndefined();
    expect(soleCause(false, [])).toBeUndefined();
  });
});
