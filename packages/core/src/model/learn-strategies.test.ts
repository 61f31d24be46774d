// The strategy registry: which strategy `auto` picks, why one cannot run, and what each primes with.
import { describe, expect, it } from 'vitest';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import { LEARN_STRATEGIES } from './types.js';
import { autoStrategy, LEARN_STRATEGY_ENTRIES, learnStrategy } from './learn/index.js';
import type { RunResult } from './learn/index.js';

const caps = (v: string) => capabilitiesOf(parseNodeVersion(v)!);
const NODE24 = caps('v24.11.0');
const NODE22 = caps('v22.23.3');

describe('learn strategies', () => {
  it('has one entry per strategy name, and nothing else', () => {
    expect(Object.keys(LEARN_STRATEGY_ENTRIES).sort()).toEqual([...LEARN_STRATEGIES].sort());
  });

  it.each([
    ['audit where Node has it', NODE24, undefined, 'audit'],
    ['observe without audit mode', NODE22, undefined, 'observe'],
    ['rerun when the root is too broad to observe', NODE22, 'it is the home folder', 'rerun'],
    ['audit even when the root is too broad', NODE24, 'it is the home folder', 'audit'],
  ] as const)('auto picks %s', (_name, c, rootTooBroad, expected) => {
    expect(autoStrategy({ caps: c, root: '/srv/app', rootTooBroad })).toBe(expected);
  });

  it('says why a strategy cannot run here, completing `--strategy <name> …`', () => {
    expect(LEARN_STRATEGY_ENTRIES.audit.unavailable({ caps: NODE22, root: '/srv/app' })).toBe(
      'needs Node 24 or later (--permission-audit); v22.23.3 has no audit mode',
    );
    expect(LEARN_STRATEGY_ENTRIES.audit.unavailable({ caps: NODE24, root: '/srv/app' })).toBeUndefined();
    expect(LEARN_STRATEGY_ENTRIES.observe.unavailable({ caps: NODE22, root: '/home/me', rootTooBroad: 'it is the home folder' })).toBe(
      'would let the app read /home/me (it is the home folder); put the app in a folder with a package.json',
    );
    expect(LEARN_STRATEGY_ENTRIES.observe.unavailable({ caps: NODE22, root: '/srv/app' })).toBeUndefined();
    expect(LEARN_STRATEGY_ENTRIES.rerun.unavailable({ caps: NODE22, root: '/home/me', rootTooBroad: 'it is the home folder' })).toBeUndefined();
  });

  it('primes audit with one audit run (two when an addon cut the first short), observe with reads of the root plus children and Workers, rerun not at all', () => {
    const audit = learnStrategy('audit')!;
    expect([audit.phase, audit.maxRounds, audit.extraGrants([])]).toEqual(['audit', 2, []]);
    const observe = learnStrategy('observe', { root: '/srv/app' })!;
    expect(observe.phase).toBe('observe');
    expect(observe.extraGrants([]).map((g) => [g.scope, g.path])).toEqual([
      ['fs.read', '/srv/app'],
      ['child', undefined],
      ['worker', undefined],
    ]);
    // A capability already granted is not given again for the run.
    expect(observe.extraGrants([{ scope: 'child', denials: [], notes: [] }]).map((g) => g.scope)).toEqual(['fs.read', 'worker']);
    expect(learnStrategy('rerun')).toBeUndefined();
  });

  it("observe grants a Node child's own entry point on 22+ (Node lets a process read it), never on 20", () => {
    const observe = learnStrategy('observe', { root: '/srv/app' })!;
    const run: RunResult = {
      outcome: 'exited',
      exitCode: 0,
      denials: [],
      recorderLoaded: true,
      stderrDenials: [],
      stderrTail: '',
      durationMs: 5,
      modules: [{ file: '/srv/app/index.js' }, { file: '/srv/app/bin/tool.js', ownEntry: true }, { file: '/srv/app/lib/u.js', from: '/srv/app/bin/tool.js' }],
    };
    const fs = { homedir: '/home/u', kind: () => 'missing' as const };
    const resources = (c: typeof NODE22) => observe.candidates(run, { caps: c, fs, implicitReadGrants: [] } as never).map((d) => d.resource);
    expect(resources(NODE22)).toEqual(['/srv/app/index.js', '/srv/app/lib/u.js']);
    expect(resources(caps('v20.20.2'))).toEqual(['/srv/app/index.js', '/srv/app/bin/tool.js', '/srv/app/lib/u.js']);
  });
});
