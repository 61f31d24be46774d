// A missing folder searched by name (a static server's lookups of each request's path): which folder,
// which lookups are one search, and the grant a plan makes of them. Real Node: test/e2e/learn-fixtures.test.ts
// (caught/missing-static).
import { describe, expect, it } from 'vitest';
import type { Denial, FsProbe } from '../types.js';
import { renderFlags } from '../grants.js';
import { capabilitiesOf, parseNodeVersion } from '../node-versions.js';
import { missingFolderOf, MissingFolderSearches, searchOneMissingFolder, searchRoot } from './missing-folder.js';
import { planStep } from './plan-step.js';

const APP = '/srv/app';
const NODE26 = capabilitiesOf(parseNodeVersion('v26.12.1')!);
const present: Record<string, 'file' | 'dir'> = { [APP]: 'dir', [`${APP}/data.json`]: 'file', [`${APP}/config`]: 'dir', [`${APP}/README`]: 'file' };
const fs: FsProbe = { homedir: '/home/u', kind: (p) => present[p] ?? 'missing' };
const SITE = `${APP}/node_modules/sirv/build.js:43:37`;

const lookup = (resource: string, extra: Partial<Denial> = {}): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  thread: 'main',
  site: SITE,
  call: 'existsSync',
  existed: false,
  ...extra,
});
const request = (url: string) => [`${APP}/public${url}`, `${APP}/public${url}.html`, `${APP}/public${url}/index.html`].map((p) => lookup(p));

describe('missingFolderOf', () => {
  it('is the outermost folder below the root that was not there', () => {
    expect(missingFolderOf(`${APP}/public/posts/1/index.html`, APP, fs)).toBe(`${APP}/public`);
    expect(missingFolderOf(`${APP}/config/a/b.json`, APP, fs)).toBe(`${APP}/config/a`);
  });

  it('is nothing for a name in a folder that is there, under a file, or outside the root', () => {
    expect(missingFolderOf(`${APP}/config/local.json`, APP, fs)).toBeUndefined();
    expect(missingFolderOf(`${APP}/missing.json`, APP, fs)).toBeUndefined();
    expect(missingFolderOf(`${APP}/README/x`, APP, fs)).toBeUndefined();
    expect(missingFolderOf('/etc/app/a/b', APP, fs)).toBeUndefined();
  });
});

describe('MissingFolderSearches', () => {
  it('finds the folder one asker looked under by two names or more, at any depth', () => {
    const seen = request('/posts');
    const searches = new MissingFolderSearches(seen, APP, fs);
    const found = searches.find(seen[0]!, 'fs.read');
    expect(found).toEqual({ folder: `${APP}/public`, names: ['posts', 'posts.html', 'posts/index.html'], count: 3 });
    // A URL no run asked for is the same search.
    expect(searches.find(lookup(`${APP}/public/comments`), 'fs.read')?.folder).toBe(`${APP}/public`);
    expect(searchOneMissingFolder([...seen, ...request('/comments')], APP, fs)).toBe(true);
  });

  it('not for one name, another asker, a write, a present path, or with no root', () => {
    const one = [lookup(`${APP}/public/posts`)];
    expect(new MissingFolderSearches(one, APP, fs).find(one[0]!, 'fs.read')).toBeUndefined();
    const seen = request('/posts');
    const elsewhere = lookup(`${APP}/public/comments`, { site: `${APP}/lib/other.js:3:1` });
    expect(new MissingFolderSearches(seen, APP, fs).find(elsewhere, 'fs.read')).toBeUndefined();
    expect(searchOneMissingFolder([seen[0]!, elsewhere], APP, fs)).toBe(false);
    expect(new MissingFolderSearches(seen, APP, fs).find(seen[0]!, 'fs.write')).toBeUndefined();
    expect(new MissingFolderSearches(seen, APP, fs).find(lookup(`${APP}/data.json`, { existed: true }), 'fs.read')).toBeUndefined();
    expect(new MissingFolderSearches(seen, undefined, fs).find(seen[0]!, 'fs.read')).toBeUndefined();
  });

  it('is off with --granularity file', () => {
    expect(searchRoot({ generalise: { granularity: 'file', root: APP, tmpdir: '/tmp' } })).toBeUndefined();
    expect(searchRoot({ generalise: { granularity: 'deps', root: APP, tmpdir: '/tmp' } })).toBe(APP);
  });
});

describe('planStep with the searches', () => {
  const opts = { caps: NODE26, fs, generalise: { granularity: 'deps' as const, root: APP, tmpdir: '/tmp' } };

  it('grants the folder as F/*, with why', () => {
    const seen = request('/posts');
    const step = planStep(seen[0]!, [], opts, 3, { searches: new MissingFolderSearches(seen, APP, fs) });
    expect(step.type).toBe('add');
    if (step.type !== 'add') return;
    expect(renderFlags([step.grant], NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/public/*`]);
    expect(step.grant.notes.map((n) => n.detail)).toEqual([
      `names looked up under ${APP}/public, which does not exist (posts, posts.html, posts/index.html): granted as ${APP}/public/* so that any name looked up there is covered, not only those learning saw`,
    ]);
  });

  it('grants the one name exactly without the searches', () => {
    const step = planStep(request('/posts')[0]!, [], opts, 3);
    expect(step.type === 'add' && renderFlags([step.grant], NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/public/posts`]);
  });
});
