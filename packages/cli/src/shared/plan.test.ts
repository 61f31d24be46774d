// planApp settles flags over the config over the defaults; the parsers hand it what was given; mapLimit keeps order.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type PermlearnConfig } from '@permlearn/core';
import { planApp } from './plan.js';
import { mapLimit } from './many-apps.js';
import type { AppOverrides } from './options.js';
import { parseLearnArgs } from '../commands/learn.js';
import { parseRunArgs } from '../commands/run.js';
import { parseCheckArgs } from '../commands/check.js';
import { parseMergeArgs } from '../commands/merge.js';

const found = (config: PermlearnConfig, dir = '/w/svc') => ({ file: `${dir}/permlearn.config.json`, config: resolveConfig(config, dir) });

describe('planApp: flags over the file over the defaults', () => {
  it.each<[string, PermlearnConfig | undefined, AppOverrides, Record<string, unknown>]>([
    [
      'defaults without a config',
      undefined,
      { entry: 'a.js' },
      {
        entry: path.resolve('a.js'),
        args: [],
        cwd: process.cwd(),
        strategy: 'auto',
        maxRuns: 300,
        maxRunMs: 60_000,
        graceMs: 3_000,
        minimize: false,
        format: 'flags',
        relative: false,
        exercise: [],
        readiness: {},
      },
    ],
    [
      'the config, paths from its folder',
      { entry: 'src/a.js', args: ['x'], granularity: 'file', maxRunTime: 5, grace: 1 },
      {},
      {
        entry: '/w/svc/src/a.js',
        args: ['x'],
        cwd: '/w/svc',
        granularity: 'file',
        maxRunMs: 5000,
        graceMs: 1000,
        profile: '/w/svc/permlearn.json',
        name: 'svc',
      },
    ],
    [
      'a flag beats the key',
      { entry: 'a.js', strategy: 'rerun', exercise: ['curl a'] },
      { strategy: 'audit', exercise: ['curl b'] },
      { strategy: 'audit', exercise: ['curl b'] },
    ],
    [
      'an entry on the command line replaces the app and its arguments',
      { command: ['npm', 'start'] },
      { entry: 'b.js' },
      { entry: path.resolve('b.js'), args: [] },
    ],
    [
      "an entry on the command line drops the config's args",
      { entry: 'a.js', args: ['x'] },
      { entry: 'b.js', appArgs: ['y'] },
      { entry: path.resolve('b.js'), args: ['y'] },
    ],
    ['a command on the command line replaces the entry', { entry: 'a.js' }, { command: ['npm', 'start'] }, { command: ['npm', 'start'] }],
    ['readiness from the file, seconds to ms', { entry: 'a.js', readiness: { port: 3000, timeout: 2 } }, {}, { readiness: { port: 3000, aliveAfterMs: 2000 } }],
    [
      "any readiness flag replaces the file's readiness",
      { entry: 'a.js', readiness: { stdout: 'up' } },
      { readiness: { port: 4000 } },
      { readiness: { port: 4000 } },
    ],
    ['a long --timeout raises the run limit', { entry: 'a.js', readiness: { timeout: 90 } }, {}, { maxRunMs: 100_000 }],
    ['--cwd is from the current folder', { entry: 'a.js' }, { cwd: 'elsewhere' }, { cwd: path.resolve('elsewhere') }],
  ])('%s', (_name, config, overrides, want) => {
    const plan = planApp(config ? found(config) : undefined, overrides);
    expect(plan).toMatchObject(want);
    if (overrides.entry) expect(plan.command).toBeUndefined();
    if (overrides.command) expect(plan.entry).toBeUndefined();
  });

  it("the config's readiness.stdout becomes a RegExp", () => {
    expect(planApp(found({ entry: 'a.js', readiness: { stdout: '^listening on \\d+' } }), {}).readiness.stdout).toEqual(/^listening on \d+/);
  });

  it('output: flag, then config, then default', () => {
    expect(planApp(found({ format: 'json', relative: true, out: 'o.json' }), {}, {})).toMatchObject({ format: 'json', relative: true, out: '/w/svc/o.json' });
    expect(planApp(found({ format: 'json' }), {}, { format: 'args', out: 'x' })).toMatchObject({ format: 'args', out: path.resolve('x') });
  });
});

describe('parsing', () => {
  it('--exercise is repeatable and does not swallow the entry', async () => {
    const p = await parseLearnArgs(['--exercise', 'curl a', '--exercise', 'curl b', 'server.js', '--', '3000']);
    expect(p).toMatchObject({ kind: 'learn', args: { app: { entry: 'server.js', appArgs: ['3000'], exercise: ['curl a', 'curl b'] } } });
  });

  it('only what was given is an override', async () => {
    const p = await parseLearnArgs(['app.js']);
    expect(p.kind === 'learn' && p.args.app).toEqual({ entry: 'app.js', appArgs: [] });
    expect(p.kind === 'learn' && p.args.output).toEqual({});
  });

  it('positional .json files are configs; run takes the command after --', async () => {
    expect(await parseLearnArgs(['a/permlearn.config.json', 'b/package.json'])).toMatchObject({
      args: { configs: ['a/permlearn.config.json', 'b/package.json'] },
    });
    expect(await parseRunArgs(['--ready-port', '3000', '--', 'npm', 'start', '--x'])).toMatchObject({
      args: { run: true, app: { command: ['npm', 'start', '--x'], readiness: { port: 3000 } } },
    });
  });

  it.each([
    [['--workspace', 'app.js'], /--workspace learns every configured package/],
    [['--concurrency', '0', '--workspace'], /--concurrency must be a whole number/],
    [['--exercise', ' ', 'a.js'], /--exercise needs a command/],
    [['--', 'x'], /need an <entry> before them/],
  ])('%j is a usage error', async (argv, message) => {
    await expect(parseLearnArgs(argv)).rejects.toThrow(message);
  });

  it('check and merge', async () => {
    expect(await parseCheckArgs(['--strict', '--suggest', 's.json', '--format', 'json'])).toMatchObject({
      kind: 'check',
      args: { strict: true, suggest: 's.json', json: true, write: false },
    });
    await expect(parseCheckArgs(['--workspace', '--profile', 'p.json'])).rejects.toThrow(/name one file/);
    expect(await parseMergeArgs(['a.json', 'b.json', '--entry', 'app.js', '--', 'x'])).toMatchObject({
      kind: 'merge',
      args: { profiles: ['a.json', 'b.json'], app: { entry: 'app.js', appArgs: ['x'] } },
    });
    await expect(parseMergeArgs([])).rejects.toThrow(/missing profiles/);
  });
});

describe('mapLimit', () => {
  it('keeps the order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([30, 10, 20, 5, 15], 2, async (ms, i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });
});
