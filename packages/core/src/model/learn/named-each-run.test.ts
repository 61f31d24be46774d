import { describe, expect, it } from 'vitest';
import type { Denial, FsProbe } from '../types.js';
import type { Grant } from '../grants.js';
import { capabilitiesOf, parseNodeVersion } from '../node-versions.js';
import { looksGenerated, NamedEachRunIndex } from './named-each-run.js';
import { planStep } from './plan-step.js';

const caps = capabilitiesOf(parseNodeVersion('v24.22.3')!);
const SITE = 'file:///app/node_modules/vitest/dist/chunks/coverage.js:2471:5';
// /tmp and /app/.tmp exist; nothing below them did before learning.
const fs: FsProbe = { homedir: '/home/u', kind: (p) => (['/tmp', '/app', '/app/.tmp', '/app/out'].includes(p) ? 'dir' : 'missing') };
const denial = (resource: string, site = SITE): Denial => ({
  permission: 'FileSystemWrite',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'uncaught',
  site,
  call: 'mkdirSync',
});
const granted = (path: string, site = SITE): Grant => ({ scope: 'fs.write', path, kind: 'created-dir', denials: [denial(path, site)], notes: [] });
const opts = (tmpdir: string) => ({ caps, fs, generalise: { granularity: 'deps' as const, root: '/app', tmpdir } });

describe('a folder named anew each run', () => {
  it('tells generated ids from names an app picks', () => {
    expect(looksGenerated('wDMDa9JdUXF_4bxL-Rt1L', '-8NB1fZZFDpdiMYPgXM8o')).toBe(true);
    expect(looksGenerated('3f2b9c1e-aa01-4b7e-9d1c-0c5e2f6a7b80', '9a1d0c3b-7e55-4f20-8a6b-1d2e3f4a5b6c')).toBe(true);
    // Dates and counters change a few characters; short names and different lengths are not ids.
    expect(looksGenerated('2026-12-01.log', '2026-12-02.log')).toBe(false);
    expect(looksGenerated('build-0001', 'build-0002')).toBe(false);
    expect(looksGenerated('a.js', 'b.js')).toBe(false);
    expect(looksGenerated('abcdefgh', 'abcdefghi')).toBe(false);
    expect(looksGenerated('same-name-x', 'same-name-x')).toBe(false);
  });

  it('finds the sibling the same call site was denied in an earlier run', () => {
    const old = granted('/tmp/wDMDa9JdUXF_4bxL-Rt1L/ssr');
    const index = new NamedEachRunIndex([old]);
    const found = index.find(denial('/tmp/-8NB1fZZFDpdiMYPgXM8o/ssr'), 'fs.write', '/tmp/-8NB1fZZFDpdiMYPgXM8o/ssr', fs);
    expect(found).toEqual({ old, folder: '/tmp', names: ['wDMDa9JdUXF_4bxL-Rt1L', '-8NB1fZZFDpdiMYPgXM8o'] });
    // Another call site, another tail below the name, or a name that existed before: not the same folder.
    const site = 'file:///app/x.js:1:1';
    expect(index.find(denial('/tmp/-8NB1fZZFDpdiMYPgXM8o/ssr', site), 'fs.write', '/tmp/-8NB1fZZFDpdiMYPgXM8o/ssr', fs)).toBeUndefined();
    expect(index.find(denial('/tmp/-8NB1fZZFDpdiMYPgXM8o/web'), 'fs.write', '/tmp/-8NB1fZZFDpdiMYPgXM8o/web', fs)).toBeUndefined();
    expect(new NamedEachRunIndex([granted('/app/out/a.js')]).find(denial('/app/out/b.js'), 'fs.write', '/app/out/b.js', fs)).toBeUndefined();
    // Without a call site on either side (a cleanup caught inside fs.rm), the names alone match.
    const bare = { ...granted('/tmp/wDMDa9JdUXF_4bxL-Rt1L'), denials: [{ ...denial('/tmp/wDMDa9JdUXF_4bxL-Rt1L'), site: undefined }] };
    const { site: _unused, ...siteless } = denial('/tmp/-8NB1fZZFDpdiMYPgXM8o');
    expect(new NamedEachRunIndex([bare]).find(siteless, 'fs.write', '/tmp/-8NB1fZZFDpdiMYPgXM8o', fs)?.folder).toBe('/tmp');
    expect(new NamedEachRunIndex([bare]).find(denial('/tmp/-8NB1fZZFDpdiMYPgXM8o'), 'fs.write', '/tmp/-8NB1fZZFDpdiMYPgXM8o', fs)).toBeUndefined();
    // A folder that was there before learning is not a name the app made up.
    const there: FsProbe = { ...fs, kind: (p) => (p.startsWith('/tmp') ? 'dir' : 'missing') };
    expect(index.find(denial('/tmp/-8NB1fZZFDpdiMYPgXM8o/ssr'), 'fs.write', '/tmp/-8NB1fZZFDpdiMYPgXM8o/ssr', there)).toBeUndefined();
  });

  it('grants the common folder where the breadth rule allows it, and refuses the temporary directory itself', () => {
    const earlier = [granted('/app/.tmp/wDMDa9JdUXF_4bxL-Rt1L/ssr')];
    const inProject = planStep(denial('/app/.tmp/-8NB1fZZFDpdiMYPgXM8o/ssr'), earlier, opts('/app/.tmp'), 4, { named: new NamedEachRunIndex(earlier) });
    expect(inProject).toMatchObject({
      type: 'replace',
      grant: { scope: 'fs.write', path: '/app/.tmp', kind: 'dir' },
      event: { type: 'widened', to: '/app/.tmp' },
    });
    const shared = [granted('/tmp/wDMDa9JdUXF_4bxL-Rt1L/ssr')];
    const tmp = planStep(denial('/tmp/-8NB1fZZFDpdiMYPgXM8o/ssr'), shared, opts('/tmp'), 4, { named: new NamedEachRunIndex(shared) });
    expect(tmp).toMatchObject({ type: 'refused', info: { violation: { code: 'tmpdir' } } });
    expect(tmp.type === 'refused' && tmp.info.because).toMatch(/names a folder in \/tmp anew each run/);
  });
});
