// Numeric options: each out-of-range, fractional, negative or non-numeric value is a one-line usage
// error naming the option and its range; values in range come through as numbers (seconds as ms).
import { describe, expect, it } from 'vitest';
import { PermlearnError } from '@permlearn/core';
import { parseLearnArgs as parseArgs, type LearnArgs } from '../commands/learn.js';
import { parseCheckArgs } from '../commands/check.js';

async function usageError(argv: string[], parse: (argv: string[]) => Promise<unknown> = parseArgs): Promise<string> {
  try {
    await parse(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(PermlearnError);
    expect((err as PermlearnError).kind).toBe('usage');
    return (err as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

const SECONDS = 'a number of seconds from 0.001 to 2000000';

describe('numeric options are range-checked', () => {
  it.each<[string, string, string]>([
    ['--max-run-time', '3000000', SECONDS], // would overflow Node's timer (2^31-1 ms)
    ['--max-run-time', '0', SECONDS],
    ['--max-run-time', '-5', SECONDS],
    ['--max-run-time', 'abc', SECONDS],
    ['--max-run-time', '', SECONDS],
    ['--max-run-time', '1e3', SECONDS],
    ['--grace', '0', SECONDS],
    ['--grace', '-1', SECONDS],
    ['--grace', 'Infinity', SECONDS],
    ['--timeout', '0', SECONDS],
    ['--timeout', '9999999999', SECONDS],
    ['--max-runs', '0', 'a whole number from 1 to 100000'],
    ['--max-runs', '-3', 'a whole number from 1 to 100000'],
    ['--max-runs', '2.5', 'a whole number from 1 to 100000'],
    ['--max-runs', '1000000000', 'a whole number from 1 to 100000'],
    ['--ready-port', 'abc', 'a whole number from 1 to 65535'],
    ['--ready-port', '0', 'a whole number from 1 to 65535'],
    ['--ready-port', '80.5', 'a whole number from 1 to 65535'],
    ['--ready-port', '65536', 'a whole number from 1 to 65535'],
    ['--ready-port', '0x50', 'a whole number from 1 to 65535'],
    ['--concurrency', '0', 'a whole number from 1 to 1024'],
    ['--concurrency', '1.5', 'a whole number from 1 to 1024'],
    ['--concurrency', '100000', 'a whole number from 1 to 1024'],
  ])('%s %j', async (option, value, range) => {
    const message = await usageError([`${option}=${value}`, 'app.js']);
    expect(message).toBe(`${option} must be ${range}, got '${value}'`);
  });

  it('a value after a space, negative or not, is read the same way', async () => {
    expect(await usageError(['--max-runs', '-3', 'app.js'])).toBe("--max-runs must be a whole number from 1 to 100000, got '-3'");
    expect(await usageError(['--ready-port', 'abc', 'app.js'], parseCheckArgs)).toBe("--ready-port must be a whole number from 1 to 65535, got 'abc'");
  });

  it('an option given twice is refused rather than guessed', async () => {
    expect(await usageError(['--max-runs', '3', '--max-runs', '4', 'app.js'])).toBe('--max-runs is given more than once');
  });

  it('values in range: numbers, seconds as whole milliseconds', async () => {
    const parsed = await parseArgs([
      '--max-runs',
      '7',
      '--max-run-time',
      '2000000',
      '--grace',
      '0.5',
      '--timeout',
      '1.25',
      '--ready-port',
      '65535',
      '--concurrency',
      '3',
      'app.js',
    ]);
    const args = (parsed as { kind: 'learn'; args: LearnArgs }).args;
    expect(args.app).toMatchObject({ maxRuns: 7, maxRunMs: 2_000_000_000, graceMs: 500, readiness: { port: 65535, aliveAfterMs: 1250 } });
    expect(args.concurrency).toBe(3);
    // The largest time limit still fits Node's timers.
    expect(args.app.maxRunMs! + 10_000).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});
