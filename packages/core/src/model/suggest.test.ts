import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from './suggest.js';

describe('closestMatch', () => {
  const options = ['ready-port', 'ready-url', 'ready-stdout', 'root', 'run', 'format', 'force'];
  it.each([
    ['ready-prot', 'ready-port'],
    ['readyPort', 'ready-port'],
    ['ready_url', 'ready-url'],
    ['fromat', 'format'],
    ['forse', 'force'],
    ['rot', 'root'],
    ['ran', 'run'],
    ['frobnicate', undefined],
    ['xy', undefined],
  ])('%s → %s', (word, expected) => {
    expect(closestMatch(word, options)).toBe(expected);
  });

  it('prefers the nearest of several near candidates', () => {
    expect(closestMatch('chekc', ['check', 'chalk'])).toBe('check');
    expect(editDistance('chekc', 'check')).toBe(2);
  });
});
