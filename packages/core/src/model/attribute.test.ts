import { describe, expect, it } from 'vitest';
import { attributeDenial, type FindPackage, type PackageInfo } from './attribute.js';
import type { Denial } from './types.js';

const APP = '/srv/app';
const packages: Record<string, PackageInfo> = {
  [APP]: { dir: APP, name: 'my-service', version: '1.0.0' },
  [`${APP}/node_modules/express`]: { dir: `${APP}/node_modules/express`, name: 'express', version: '4.22.3' },
  [`${APP}/node_modules/@scope/pkg`]: { dir: `${APP}/node_modules/@scope/pkg`, name: '@scope/pkg', version: '2.0.0' },
  [`${APP}/node_modules/noversion`]: { dir: `${APP}/node_modules/noversion` },
  // Nested manifests that only set a module type: terser's names itself "dist"; signal-exit's has no name.
  [`${APP}/node_modules/terser`]: { dir: `${APP}/node_modules/terser`, name: 'terser', version: '5.44.0' },
  [`${APP}/node_modules/terser/dist`]: { dir: `${APP}/node_modules/terser/dist`, name: 'dist', version: '1.0.0' },
  [`${APP}/node_modules/signal-exit`]: { dir: `${APP}/node_modules/signal-exit`, name: 'signal-exit', version: '4.1.0' },
  [`${APP}/node_modules/signal-exit/dist/cjs`]: { dir: `${APP}/node_modules/signal-exit/dist/cjs` },
  ['/opt/linked-src']: { dir: '/opt/linked-src', name: 'linked', version: '0.1.0' },
};
/** Nearest package.json at or above a directory, from the table above. */
const find: FindPackage = (dir) => {
  for (let d = dir; ; d = d.slice(0, d.lastIndexOf('/')) || '/') {
    if (packages[d]) return packages[d];
    if (d === '/') return undefined;
  }
};
const denial = (site?: string): Denial => ({
  permission: 'FileSystemRead',
  resource: '/x',
  code: 'ERR_ACCESS_DENIED',
  source: 'uncaught',
  ...(site ? { site } : {}),
});

describe('attributeDenial', () => {
  it.each([
    ['the app itself', `${APP}/src/index.js:4:10`, { by: 'app', at: 'src/index.js:4' }],
    ['a dependency', `${APP}/node_modules/express/lib/application.js:17:14`, { by: 'express@4.22.3', at: 'lib/application.js:17' }],
    ['a scoped dependency', `${APP}/node_modules/@scope/pkg/dist/a.js:1:1`, { by: '@scope/pkg@2.0.0', at: 'dist/a.js:1' }],
    ['a package.json without version', `${APP}/node_modules/noversion/i.js:3:3`, { by: 'noversion', at: 'i.js:3' }],
    ['a symlinked package outside the app', '/opt/linked-src/main.js:2:1', { by: 'linked@0.1.0', at: 'main.js:2' }],
    ['a file: URL (ESM)', `file://${APP}/node_modules/express/index.mjs:9:2`, { by: 'express@4.22.3', at: 'index.mjs:9' }],
    ['a requiring file without line (from the require watcher)', `${APP}/node_modules/express/index.js`, { by: 'express@4.22.3', at: 'index.js' }],
    ['no package.json anywhere', '/elsewhere/tool.js:1:1', { by: 'app', at: '../../elsewhere/tool.js:1' }],
    ['a nested manifest with a name of its own', `${APP}/node_modules/terser/dist/bundle.min.js:1:9`, { by: 'terser@5.44.0', at: 'dist/bundle.min.js:1' }],
    ['a nested manifest with no name', `${APP}/node_modules/signal-exit/dist/cjs/index.js:2:1`, { by: 'signal-exit@4.1.0', at: 'dist/cjs/index.js:2' }],
  ])('%s', (_name, site, expected) => {
    expect(attributeDenial(denial(site), APP, find)).toEqual(expected);
  });

  it('a denial with no call site is not attributed', () => {
    expect(attributeDenial(denial(), APP, find)).toBeUndefined();
  });
});
