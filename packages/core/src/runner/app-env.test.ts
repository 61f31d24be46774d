import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appEnvironment, insideInstallation, permlearnInstallation, type Installation } from './app-env.js';

const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('permlearnInstallation', () => {
  it('in a checkout: its packages, and its node_modules when the app is elsewhere', () => {
    const inst = permlearnInstallation('/srv/app', path.join(checkout, 'packages', 'cli', 'bin', 'permlearn.js'));
    expect(inst.roots).toEqual(
      expect.arrayContaining([path.join(checkout, 'packages', 'core'), path.join(checkout, 'packages', 'cli'), path.join(checkout, 'node_modules')]),
    );
    expect(inst.stores).toEqual([path.join(checkout, 'node_modules', '.pnpm')]);
    expect(insideInstallation(path.join(checkout, 'node_modules', '.pnpm', 'node_modules', 'yargs', 'index.js'), inst)).toMatch(/permlearn's own installation/);
    expect(insideInstallation('/srv/app/node_modules/yargs/index.js', inst)).toBeUndefined();
  });

  it("keeps an ancestor's node_modules when the app lives inside permlearn's checkout (a fixture, the demo)", () => {
    const inst = permlearnInstallation(path.join(checkout, 'fixtures', 'scopes', 'http-server'));
    expect(inst.roots).not.toContain(path.join(checkout, 'node_modules'));
    expect(inst.roots).toContain(path.join(checkout, 'packages', 'core'));
  });
});

// An npx-style installation: permlearn and its dependencies alone in a node_modules of their own.
const npx: Installation = {
  roots: ['/home/u/.npm/_npx/abc/node_modules'],
  stores: [],
  checkouts: [],
  packages: ['/home/u/.npm/_npx/abc/node_modules/permlearn', '/home/u/.npm/_npx/abc/node_modules/@permlearn/core'],
};
const pnpmProject: Installation = {
  roots: ['/srv/app/node_modules/.pnpm/permlearn@1.0.0/node_modules/permlearn'],
  stores: ['/srv/app/node_modules/.pnpm'],
  checkouts: [],
  packages: ['/srv/app/node_modules/.pnpm/permlearn@1.0.0/node_modules/permlearn'],
};

describe('appEnvironment', () => {
  it("takes out pnpm's NODE_PATH entry and keeps the user's own, in order", () => {
    const { env, removed } = appEnvironment({ NODE_PATH: '/srv/app/node_modules/.pnpm/node_modules:/opt/mylibs', PATH: '/usr/bin' }, '/srv/app', pnpmProject);
    expect(env.NODE_PATH).toBe('/opt/mylibs');
    expect(removed).toEqual(['NODE_PATH entry /srv/app/node_modules/.pnpm/node_modules']);
  });

  it('drops NODE_PATH when nothing of it was the user’s, and PATH entries of an installation that is permlearn’s alone', () => {
    const { env } = appEnvironment(
      { NODE_PATH: '/home/u/.npm/_npx/abc/node_modules/permlearn/node_modules', PATH: '/home/u/.npm/_npx/abc/node_modules/.bin:/usr/bin' },
      '/srv/app',
      npx,
    );
    expect(env.NODE_PATH).toBeUndefined();
    expect(env.PATH).toBe('/usr/bin');
  });

  it("removes npm's variables after npx or pnpm exec, whatever package they name", () => {
    const launched = {
      npm_command: 'exec',
      npm_lifecycle_event: 'npx',
      npm_package_json: '/srv/app/package.json',
      INIT_CWD: '/srv/app',
      PNPM_PACKAGE_NAME: 'app',
      npm_config_cache: '/home/u/.npm',
      HOME: '/home/u',
      NODE_OPTIONS: '--max-old-space-size=512',
    };
    const { env } = appEnvironment(launched, '/srv/app', npx);
    expect(env).toEqual({ HOME: '/home/u', NODE_OPTIONS: '--max-old-space-size=512' });
  });

  it("keeps npm's variables of the user's own script in the app's project (`npm run learn`)", () => {
    const script = { npm_lifecycle_event: 'learn', npm_package_json: '/srv/app/package.json', npm_package_name: 'app', INIT_CWD: '/srv/app' };
    expect(appEnvironment(script, '/srv/app', npx).env).toEqual(script);
  });

  it("removes them for a script of permlearn's own checkout (`npm run demo` there)", () => {
    const inst = permlearnInstallation(path.join(checkout, 'fixtures', 'scopes', 'http-server'));
    const script = { npm_lifecycle_event: 'demo', npm_package_json: path.join(checkout, 'package.json'), npm_package_name: 'permlearn-workspace' };
    expect(appEnvironment(script, path.join(checkout, 'fixtures', 'scopes', 'http-server'), inst).env).toEqual({});
  });
});
