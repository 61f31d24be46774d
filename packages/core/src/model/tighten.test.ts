import { describe, expect, it } from 'vitest';
import type { Grant } from './grants.js';
import { reduceCandidates, SoftEvidence, splitCandidates } from './tighten.js';
import type { Denial } from './types.js';

const g = (name: string, denials: Denial[] = []): Grant => ({ scope: 'fs.read', path: `/app/${name}`, kind: 'file', denials, notes: [] });
const d = (resource: string): Denial => ({ permission: 'FileSystemRead', resource, code: 'ERR_ACCESS_DENIED', source: 'channel' });

/** A trial that passes when every grant named in `needed` is present; it counts its calls. */
function app(needed: string[]) {
  const calls: string[][] = [];
  const trial = async (grants: Grant[]) => {
    const names = grants.map((x) => x.path!.slice(5));
    calls.push(names);
    return needed.every((n) => names.includes(n));
  };
  return { trial, calls };
}

describe('reduceCandidates', () => {
  const many = Array.from({ length: 16 }, (_, i) => g(`c${i}`));
  const base = [g('main.js')];

  it('none needed: one trial without them all', async () => {
    const { trial, calls } = app(['main.js']);
    const r = await reduceCandidates(base, many, trial, { maxTrials: 100 });
    expect(r.kept).toEqual([]);
    expect(r.removed).toEqual(many);
    expect(r.trials).toBe(1);
    expect(calls).toEqual([['main.js']]);
  });

  it('one needed of 16: found in a handful of trials, not 16', async () => {
    const { trial } = app(['main.js', 'c11']);
    const r = await reduceCandidates(base, many, trial, { maxTrials: 100, baseFails: true });
    expect(r.kept.map((x) => x.path)).toEqual(['/app/c11']);
    expect(r.removed).toHaveLength(15);
    expect(r.trials).toBeLessThanOrEqual(8);
  });

  it('two needed of 16, each one alone not enough: both kept, the rest removed', async () => {
    const { trial } = app(['main.js', 'c2', 'c13']);
    const r = await reduceCandidates(base, many, trial, { maxTrials: 100, baseFails: true });
    expect(r.kept.map((x) => x.path)).toEqual(['/app/c2', '/app/c13']);
    expect(r.trials).toBeLessThanOrEqual(14);
    expect(r.untried).toEqual([]);
  });

  it('every one needed: all kept', async () => {
    const four = many.slice(0, 4);
    const { trial } = app(['main.js', 'c0', 'c1', 'c2', 'c3']);
    const r = await reduceCandidates(base, four, trial, { maxTrials: 100, baseFails: true });
    expect(r.kept).toEqual(four);
    expect(r.removed).toEqual([]);
  });

  it('out of trials: what was not tried is kept and listed as untried', async () => {
    const { trial } = app(['main.js', 'c3']);
    const r = await reduceCandidates(base, many, trial, { maxTrials: 1, baseFails: true });
    expect(r.trials).toBe(1);
    // The one trial (without the second half) failed; nothing else could be tried, so all stay.
    expect(r.kept).toEqual(many);
    expect(r.untried).toEqual(many);
    expect(r.removed).toEqual([]);
  });
});

describe('splitCandidates', () => {
  it('a grant is a candidate only when all of its evidence is soft; a grant without evidence stays', () => {
    const soft = new SoftEvidence();
    const a = d('a');
    const b = d('b');
    const c = d('c');
    soft.mark(a);
    soft.mark(b);
    const onlySoft = g('a', [a]);
    const mixed = g('b', [b, c]);
    const given = g('given');
    expect(splitCandidates([onlySoft, mixed, given], soft)).toEqual({ base: [mixed, given], candidates: [onlySoft] });
  });
});

describe('splitCandidates: the app\'s own state', () => {
  it('a soft read that `keeps` names stays in the base', () => {
    const soft = new SoftEvidence();
    const a = d('/app/logs/.state.json');
    soft.mark(a);
    const read = g('logs/.state.json', [a]);
    expect(splitCandidates([read], soft, (x) => x === read)).toEqual({ base: [read], candidates: [] });
  });
});
