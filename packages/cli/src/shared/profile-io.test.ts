// The one refusal of an unverified profile, and rendering a learned profile for output here.
import { describe, expect, it } from 'vitest';
import { RENDER_FORMATS } from '@permlearn/core';
import { testProfile } from '../../../../test/helpers/profile.js';
import { profileJson, refuseUnverified, renderForOutput } from './profile-io.js';

const grant = { scope: 'fs.read' as const, path: '/w/app/data.txt', kind: 'file' as const, flag: '--allow-fs-read=/w/app/data.txt', denials: [], notes: [] };
const verified = testProfile({ cwd: '/w/app', grants: [grant], flags: ['--permission', grant.flag] });
const failed = { ...verified, verified: false, status: 'verify-failed' as const };

describe('refuseUnverified', () => {
  it.each(RENDER_FORMATS.filter((f) => f !== 'json'))('an unverified profile is refused as %s', (format) => {
    const refusal = refuseUnverified(failed, format, 'p.json');
    expect(refusal?.kind).toBe('usage');
    expect(refusal?.message).toBe('p.json did not verify (verify-failed): its grants are incomplete, so only --format json renders it');
  });
  it('an unverified profile is given as JSON, which says so', () => {
    expect(refuseUnverified(failed, 'json', 'p.json')).toBeUndefined();
    expect(JSON.parse(profileJson(failed))).toMatchObject({ verified: false, status: 'verify-failed' });
  });
  it.each([...RENDER_FORMATS])('a verified profile is never refused (%s)', (format) => {
    expect(refuseUnverified(verified, format, 'p.json')).toBeUndefined();
  });
});

describe('renderForOutput', () => {
  it('renders for the Node the profile names, in its own cwd', () => {
    expect(renderForOutput(verified, { format: 'args' }).text).toBe('--permission\n--allow-fs-read=/w/app/data.txt\n');
    expect(renderForOutput(verified, { format: 'flags', relative: true }).text).toBe('--permission --allow-fs-read=./data.txt\n');
  });
});
