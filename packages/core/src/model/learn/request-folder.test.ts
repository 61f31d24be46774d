// The folder a server maps requests onto: the request paths of the user's commands, which reads map
// one onto a folder, and the grant a plan makes of it. Real Node: test/e2e/serve.test.ts (apps/static-api).
import { describe, expect, it } from 'vitest';
import type { Denial, FsProbe } from '../types.js';
import { renderFlags } from '../grants.js';
import { capabilitiesOf, parseNodeVersion } from '../node-versions.js';
import { requestPaths, servedFolderOf } from './request-folder.js';
import { planStep } from './plan-step.js';

const APP = '/srv/app';
const NODE26 = capabilitiesOf(parseNodeVersion('v26.12.1')!);
const present: Record<string, 'file' | 'dir'> = {
  [APP]: 'dir',
  [`${APP}/public`]: 'dir',
  [`${APP}/public/index.html`]: 'file',
  [`${APP}/public/css`]: 'dir',
  [`${APP}/public/css/site.css`]: 'file',
  [`${APP}/conf`]: 'dir',
};
const fs: FsProbe = {
  homedir: '/home/u',
  kind: (p) => present[p] ?? 'missing',
  secretsUnder: (dir) => (dir === `${APP}/conf` ? ['.env'] : []),
};
const read = (resource: string, extra: Partial<Denial> = {}): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  thread: 'main',
  site: `${APP}/node_modules/send/index.js:716:6`,
  call: 'stat',
  existed: false,
  ...extra,
});

describe('requestPaths', () => {
  it('takes each URL’s path from the commands, decoded, without a trailing slash', () => {
    const fetchCommand = `/usr/bin/node -e "fetch(\\"http://127.0.0.1:4000/api/users\\").then((r) => process.exit(r.ok ? 0 : 1))"`;
    expect(
      requestPaths([
        'curl -sf http://127.0.0.1:3000/api/posts?limit=2',
        "curl -s 'https://localhost:8443/docs/Read%20me/' && curl http://localhost:3000/api/posts#x",
        fetchCommand,
      ]),
    ).toEqual(['/api/posts', '/docs/Read me', '/api/users']);
  });

  it('leaves out the root path, which every path would match, and what is not a URL', () => {
    expect(requestPaths(['curl http://127.0.0.1:3000/', 'curl http://127.0.0.1:3000', './exercise.sh /api/posts', 'curl http://[::1'])).toEqual([]);
  });
});

describe('servedFolderOf', () => {
  it('is the folder a request path is looked up under, with what static servers add to it', () => {
    expect(servedFolderOf(read(`${APP}/public/api/posts`), ['/api/posts'], APP, fs)).toEqual({ folder: `${APP}/public`, url: '/api/posts' });
    expect(servedFolderOf(read(`${APP}/public/api/posts.html`), ['/api/posts'], APP, fs)?.folder).toBe(`${APP}/public`);
    expect(servedFolderOf(read(`${APP}/public/api/posts/index.html`), ['/api/posts'], APP, fs)?.folder).toBe(`${APP}/public`);
    expect(servedFolderOf(read(`${APP}/public/css/site.css`, { existed: true }), ['/css/site.css'], APP, fs)?.folder).toBe(`${APP}/public`);
  });

  it('not for a name that only starts like the path, the project root, node_modules, a secret’s folder, or a write', () => {
    expect(servedFolderOf(read(`${APP}/public/api/postsX`), ['/api/posts'], APP, fs)).toBeUndefined();
    expect(servedFolderOf(read(`${APP}/api/posts`), ['/api/posts'], APP, fs)).toBeUndefined();
    expect(servedFolderOf(read(`${APP}/node_modules/x/api/posts`), ['/api/posts'], APP, fs)).toBeUndefined();
    expect(servedFolderOf(read(`${APP}/conf/api/posts`), ['/api/posts'], APP, fs)).toBeUndefined();
    expect(servedFolderOf(read(`${APP}/public/api/posts`, { permission: 'FileSystemWrite' }), ['/api/posts'], APP, fs)).toBeUndefined();
    expect(servedFolderOf(read('/var/www/api/posts'), ['/api/posts'], APP, fs)).toBeUndefined();
  });
});

describe('planStep with request paths', () => {
  const opts = (granularity: 'deps' | 'file') => ({
    caps: NODE26,
    fs,
    generalise: { granularity, root: APP, tmpdir: '/tmp', requests: ['/api/posts', '/css/site.css'] },
  });

  it('grants the folder served: whole when it is there, as F/* when it is not', () => {
    const there = planStep(read(`${APP}/public/api/posts`), [], opts('deps'), 2);
    expect(there.type === 'add' && renderFlags([there.grant], NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/public`]);
    expect(there.type === 'add' && there.grant.notes.map((n) => n.detail)).toEqual([
      `the app looks requests' paths up under ${APP}/public (/api/posts → api/posts): granted the folder so that a URL learning did not ask for is answered too`,
    ]);
    const absent = planStep(read(`${APP}/static/api/posts`), [], opts('deps'), 2);
    expect(absent.type === 'add' && renderFlags([absent.grant], NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/static/*`]);
  });

  it('grants the path exactly with --granularity file', () => {
    const step = planStep(read(`${APP}/public/api/posts`), [], opts('file'), 2);
    expect(step.type === 'add' && renderFlags([step.grant], NODE26)).toEqual(['--permission', `--allow-fs-read=${APP}/public/api/posts`]);
  });
});
