import { describe, expect, it } from 'vitest';
import type { Denial, PathKind, PermissionName } from '../types.js';
import type { Grant } from '../grants.js';
import { dropCallOf, dropsBrokenBy, planDrops, renderDropSnippet, type DropPlan } from './plan.js';

const APP = '/srv/app';
const READY = 1_000;
const check = (permission: PermissionName, resource: string, time: number, lastTime?: number): Denial => ({
  permission,
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  time,
  ...(lastTime !== undefined ? { lastTime } : {}),
});
const fsGrant = (scope: 'fs.read' | 'fs.write', p: string, kind: PathKind, resources: string[]): Grant => ({
  scope,
  path: p,
  kind,
  notes: [],
  denials: resources.map((r) => ({ ...check(scope === 'fs.read' ? 'FileSystemRead' : 'FileSystemWrite', r, 1), by: 'app', at: 'server.js:3' })),
});
const config = fsGrant('fs.read', `${APP}/config`, 'dir', [`${APP}/config/app.json`]);
const secret = fsGrant('fs.read', `${APP}/secrets/token.txt`, 'file', [`${APP}/secrets/token.txt`]);
const pub = fsGrant('fs.read', `${APP}/public`, 'dir', [`${APP}/public/index.html`]);
const log = fsGrant('fs.write', `${APP}/logs`, 'created-dir', [`${APP}/logs/access.log`]);
const tmp = fsGrant('fs.write', '/tmp/app-', 'prefix', ['/tmp/app-XXXXXX']);
const child: Grant = { scope: 'child', denials: [check('ChildProcess', '', 5)], notes: [] };
const worker: Grant = { scope: 'worker', denials: [check('WorkerThreads', '', 5)], notes: [] };

describe('dropCallOf', () => {
  it.each([
    [config, { scope: 'fs.read', reference: `${APP}/config` }],
    [log, { scope: 'fs.write', reference: `${APP}/logs` }],
    [child, { scope: 'child' }],
    [tmp, undefined],
  ])('%#', (g, call) => expect(dropCallOf(g)).toEqual(call));
});

describe('planDrops', () => {
  const checks = [
    check('FileSystemRead', `${APP}/config/app.json`, 10),
    check('FileSystemRead', `${APP}/secrets/token.txt`, 12),
    // public: first read at start-up, read again while serving (a repeat's last time)
    check('FileSystemRead', `${APP}/public/index.html`, 20, 1_500),
    // the log only while serving
    check('FileSystemWrite', `${APP}/logs/access.log`, 1_200),
    check('ChildProcess', '', 30),
    // a Worker started while serving; its Inspector event is noise
    check('WorkerThreads', '', 1_300),
    check('Inspector', '', 1_300),
    // a check no grant covers changes nothing
    check('FileSystemRead', APP, 1_400),
    // 26's listen() check, in the millisecond permlearn read "listening": start-up's own
    check('Net', '', READY),
  ];
  const net: Grant = { scope: 'net', denials: [], notes: [] };
  const { drops, keep } = planDrops([config, secret, pub, log, tmp, child, worker, net], checks, READY);

  it('drops what only start-up used: the config, the secret, child processes, the network (checked as it became ready)', () => {
    expect(drops.map((d) => d.flag)).toEqual([
      `--allow-fs-read=${APP}/config`,
      `--allow-fs-read=${APP}/secrets/token.txt`,
      '--allow-child-process',
      '--allow-net',
    ]);
    expect(drops[0]).toMatchObject({
      scope: 'fs.read',
      reference: `${APP}/config`,
      covers: [{ resource: `${APP}/config/app.json`, by: 'app', at: 'server.js:3' }],
    });
  });

  it('keeps what serving uses, and a prefix grant drop() cannot remove alone', () => {
    expect(keep).toEqual([
      // (last used: the repeat's last time, 500 ms after readiness; the log's one check, 200 ms)
      { flag: `--allow-fs-read=${APP}/public`, reason: 'used-while-serving', resources: [`${APP}/public/index.html`], lastAfterMs: 500 },
      { flag: `--allow-fs-write=${APP}/logs/*`, reason: 'used-while-serving', resources: [`${APP}/logs/access.log`], lastAfterMs: 200 },
      { flag: '--allow-fs-write=/tmp/app-*', reason: 'prefix-cannot-drop' },
      { flag: '--allow-worker', reason: 'used-while-serving', resources: ['WorkerThreads'], lastAfterMs: 300 },
    ]);
  });
});

describe('dropsBrokenBy', () => {
  const { drops } = planDrops([config, secret, child], [], READY);
  it.each([
    [[check('FileSystemRead', `${APP}/config/other.json`, 2_000)], [`--allow-fs-read=${APP}/config`]],
    [[check('FileSystemRead', 'secrets/token.txt', 2_000)], [`--allow-fs-read=${APP}/secrets/token.txt`]],
    [[check('ChildProcess', '', 2_000)], ['--allow-child-process']],
    [[check('FileSystemRead', `${APP}/public/x`, 2_000)], []],
  ])('%#', (denials, flags) => expect(dropsBrokenBy(drops, denials).map((d) => d.flag)).toEqual(flags));
});

describe('renderDropSnippet', () => {
  const { drops, keep } = planDrops([config, child, pub], [check('FileSystemRead', `${APP}/public/a`, 2_000)], READY);
  const plan: DropPlan = { drops, keep, verified: true, exercised: true, notes: [] };
  it('one drop() per line with what it covered; kept grants as comments; paths relative on request', () => {
    expect(renderDropSnippet(plan, { cwd: APP, relative: true, entry: 'server.js', node: 'v26.10.0' })).toBe(
      [
        '// permlearn drop plan for server.js (learned under Node v26.10.0).',
        '// Call once start-up is done (after the server listens): these grants are not used after that.',
        'process.permission.drop("fs.read", "./config"); // config/app.json, used by app',
        'process.permission.drop("child");               // child processes',
        '// kept: --allow-fs-read=./public: still used while serving (1 resource, last 1000 ms after start-up)',
        '',
      ].join('\n'),
    );
  });
  it('says so when it is not verified or learned without exercise', () => {
    const text = renderDropSnippet({ ...plan, verified: false, exercised: false }, { cwd: APP, relative: false, entry: 'server.js', node: 'v24.21.0' });
    expect(text).toContain('// NOT VERIFIED');
    expect(text).toContain('without exercise commands');
    expect(text).toContain(`process.permission.drop("fs.read", "${APP}/config");`);
  });
});
