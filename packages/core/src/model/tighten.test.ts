import { describe, expect, it } from 'vitest';
import type { Grant } from './grants.js';
import { isHasProbe, isMissingLookup, readsProjectContent, reduceCandidates, SoftEvidence, splitCandidates } from './tighten.js';
import { describeTightened, whyCandidate } from './tightened.js';
import { dedupeDenials } from './denials.js';
import type { Denial, FsProbe } from './types.js';

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

describe("splitCandidates: the app's own state", () => {
  it('a soft read that `keeps` names stays in the base', () => {
    const soft = new SoftEvidence();
    const a = d('/app/logs/.state.json');
    soft.mark(a);
    const read = g('logs/.state.json', [a]);
    expect(splitCandidates([read], soft, (x) => x === read)).toEqual({ base: [read], candidates: [] });
  });
});

describe('has() checks and what a profile says of tightening', () => {
  const has: Denial = { permission: 'FileSystemWrite', resource: '/app/c.json', code: 'ERR_ACCESS_DENIED', source: 'channel', asked: 'has' };
  const write: Denial = { permission: 'FileSystemWrite', resource: '/app/c.json', code: 'ERR_ACCESS_DENIED', source: 'uncaught' };
  const missing: Denial = { ...d('/app/none.json'), existed: false };

  it('a has() check is a probe; an access of the same path is not, and the two are not merged', () => {
    expect(isHasProbe(has)).toBe(true);
    expect(isHasProbe(write)).toBe(false);
    expect(dedupeDenials([has, write])).toEqual([has, write]);
  });

  it('why names each kind of soft evidence a left-out grant had', () => {
    expect(whyCandidate([has])).toBe('only process.permission.has() asking whether it may, and the app started without it');
    expect(whyCandidate([missing, { ...d('/app/x'), source: 'caught' }])).toBe(
      'only lookups of paths that did not exist and denials the app caught or got by without, and the app started without it',
    );
    expect(whyCandidate([{ ...d('/app/y'), source: 'uncaught' }])).toBe('only the rest of a lookup, and the app started without it');
  });

  it('the profile form: flags, why, checks counted, the first five denials', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ ...missing, resource: `/app/m${i}`, hits: 2 }));
    const t = describeTightened({ removed: [g('m', many)], kept: [g('k', [d('/app/k')])], untried: [], trials: 2 });
    expect(t).toEqual({
      removed: [
        {
          flag: '--allow-fs-read=/app/m',
          why: 'only lookups of paths that did not exist, and the app started without it',
          asks: 14,
          denials: many.slice(0, 5),
        },
      ],
      kept: ['--allow-fs-read=/app/k'],
      untried: [],
      trials: 2,
    });
  });
});

describe('isMissingLookup', () => {
  const missing = (x: Partial<Denial>): Denial => ({ ...d('/app/x'), existed: false, ...x });
  it('a read, a removal or a Unix socket connect of what was not there; nothing else', () => {
    expect(isMissingLookup(missing({}))).toBe(true);
    // flat-cache's rmSync of a cache file it never wrote (stylelint), as audit mode publishes it.
    expect(isMissingLookup(missing({ permission: 'FileSystemWrite', resource: '/app/.stylelintcache', call: 'rmSync' }))).toBe(true);
    expect(isMissingLookup(missing({ permission: 'FileSystemWrite', call: 'unlink' }))).toBe(true);
    // A write that creates the path is a need, as is a write whose call is not known.
    expect(isMissingLookup(missing({ permission: 'FileSystemWrite', call: 'writeFileSync' }))).toBe(false);
    expect(isMissingLookup(missing({ permission: 'FileSystemWrite' }))).toBe(false);
    // tsx's client looking for a watcher's socket (26 checks it as Net); a host is no path.
    expect(isMissingLookup(missing({ permission: 'Net', resource: '/tmp/tsx-0/4711.pipe' }))).toBe(true);
    expect(isMissingLookup(missing({ permission: 'Net', resource: '127.0.0.1' }))).toBe(false);
    // Present when checked, or not known: no.
    expect(isMissingLookup(missing({ existed: true }))).toBe(false);
    expect(isMissingLookup(d('/app/x'))).toBe(false);
    expect(isMissingLookup(missing({ permission: 'FileSystemWrite', call: 'rmSync', existed: true }))).toBe(false);
  });
});

describe('readsProjectContent', () => {
  const files = new Set(['/app/.env', '/app/config/override.json', '/app/node_modules/x/package.json', '/etc/os-release']);
  const fs: FsProbe = { homedir: '/home/u', kind: (p) => (files.has(p) ? 'file' : 'missing'), initialKind: (p) => (files.has(p) ? 'file' : 'missing') };
  const read = (resource: string, call = 'readFileSync'): Denial => ({ ...d(resource), call });

  it('is a content read of a file of the project that was there before learning', () => {
    expect(readsProjectContent(read('/app/.env'), fs, '/app')).toBe(true);
    expect(readsProjectContent(read('/app/config/override.json', 'openSync'), fs, '/app')).toBe(true);
    expect(readsProjectContent(read('/app/config/override.json', 'createReadStream'), fs, '/app')).toBe(true);
  });

  it('not a stat, an unknown call, a missing file, node_modules, a file outside the project, or with no root', () => {
    expect(readsProjectContent(read('/app/.env', 'statSync'), fs, '/app')).toBe(false);
    expect(readsProjectContent(read('/app/.env', 'existsSync'), fs, '/app')).toBe(false);
    expect(readsProjectContent(d('/app/.env'), fs, '/app')).toBe(false);
    expect(readsProjectContent(read('/app/.env.local'), fs, '/app')).toBe(false);
    expect(readsProjectContent(read('/app/node_modules/x/package.json'), fs, '/app')).toBe(false);
    expect(readsProjectContent(read('/etc/os-release'), fs, '/app')).toBe(false);
    expect(readsProjectContent(read('/app/.env'), fs, undefined)).toBe(false);
    expect(readsProjectContent({ ...read('/app/.env'), permission: 'FileSystemWrite' }, fs, '/app')).toBe(false);
  });

  it('not a file the learning runs made (it was not there before)', () => {
    const made: FsProbe = { ...fs, initialKind: (p) => (p === '/app/.env' ? 'missing' : fs.kind(p)) };
    expect(readsProjectContent(read('/app/.env'), made, '/app')).toBe(false);
  });
});
