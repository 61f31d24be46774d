// The stderr report's lines for the learn loop's events that no end-to-end test makes.
import { describe, expect, it } from 'vitest';
import { Reporter } from './report.js';

function reporter(): { r: Reporter; lines: () => string[] } {
  let text = '';
  const stream = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WriteStream;
  return { r: new Reporter({ stream, color: false, quiet: false }), lines: () => text.split('\n').filter(Boolean) };
}

describe('Reporter', () => {
  it('closes the priming run of a strategy with no event of its own with one line naming the strategy', () => {
    const { r, lines } = reporter();
    r.event({ type: 'prime-done', strategy: 'rerun', run: 1, candidates: 3 });
    expect(lines()).toEqual(['run 1  rerun: 3 to grant; confirming in enforce mode']);
  });
});
