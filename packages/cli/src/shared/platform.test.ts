// Which platforms the CLI refuses to start on.
import { describe, expect, it } from 'vitest';
import { unsupportedPlatform } from './platform.js';

describe('unsupportedPlatform', () => {
  it.each([
    ['linux', undefined],
    ['darwin', undefined],
    ['freebsd', undefined],
  ] as const)('%s: runs', (platform, expected) => {
    expect(unsupportedPlatform(platform)).toBe(expected);
  });

  it('win32: refuses in one line that names the reason and the way out', () => {
    const message = unsupportedPlatform('win32');
    expect(message).toMatch(/^Windows is not supported: .*process group.*\/bin\/sh.*WSL 2/);
    expect(message).not.toContain('\n');
  });
});
