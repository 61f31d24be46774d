import { describe, expect, it } from 'vitest';
import { parsePermission, type Denial, type FsProbe } from './types.js';
import { renderFlags, type Grant } from './grants.js';
import { capabilitiesOf, parseNodeVersion, type Capabilities } from './node-versions.js';
import {
  learn,
  learnStrategy,
  preferPresent,
  selectDenials,
  siblingLookups,
  type LearnEvent,
  type LearnOptions,
  type PrimeStrategy,
  type RunRequest,
  type RunResult,
} from './learn/index.js';

const HOME = '/home/u';
const APP = '/srv/app';
const caps = (v: string): Capabilities => capabilitiesOf(parseNodeVersion(v)!);
const NODE26 = caps('v26.10.0');

/** A fake file system: paths not listed are missing. `set` lets a scripted run create things. */
function fakeFs(kinds: Record<string, 'file' | 'dir'> = {}): FsProbe & { set(p: string, k: 'file' | 'dir'): void } {
  const map = new Map(Object.entries(kinds));
  return { homedir: HOME, kind: (p) => map.get(p) ?? 'missing', set: (p, k) => void map.set(p, k) };
}

/** A denial as the recorder sends it. */
/** A denial as the parser reads one: a permission name permlearn does not know becomes 'unknown'. */
function denial(permission: string, resource: string, extra: Partial<Denial> = {}): Denial {
  return {
    ...parsePermission(permission),
    resource,
    code: 'ERR_ACCESS_DENIED',
    source: 'uncaught',
    cwd: APP,
    thread: 'main',
    site: `${APP}/index.js:1:1`,
    ...extra,
  };
}

function result(extra: Partial<RunResult> = {}): RunResult {
  return { outcome: 'exited', exitCode: 1, denials: [], recorderLoaded: true, stderrDenials: [], stderrTail: '', durationMs: 5, ...extra };
}
const OK = result({ exitCode: 0 });
const denied = (...ds: Denial[]): RunResult => result({ denials: ds });

type Step = RunResult | ((req: RunRequest) => RunResult);

/** A runApp that replays scripted results and records what it was asked to run. */
function scripted(steps: Step[], c: Capabilities = NODE26) {
  const requests: Array<{ run: number; phase: string; flags: string[] }> = [];
  const runApp = async (req: RunRequest): Promise<RunResult> => {
    requests.push({ run: req.run, phase: req.phase, flags: renderFlags(req.grants, c) });
    const step = steps[req.run - 1];
    if (step === undefined) throw new Error(`run ${req.run} was not scripted`);
    return typeof step === 'function' ? step(req) : step;
  };
  return { runApp, requests };
}

async function go(steps: Step[], opts: Partial<LearnOptions> = {}) {
  const c = opts.caps ?? NODE26;
  const { runApp, requests } = scripted(steps, c);
  const events: LearnEvent[] = [];
  const res = await learn({ runApp, caps: c, fs: fakeFs(), maxRuns: 20, onEvent: (e) => events.push(e), ...opts });
  return { res, requests, events, flags: renderFlags(res.grants, c) };
}

describe('learn: the basic loop', () => {
  it('grants the uncaught denial, reruns, then verifies with exactly the learned flags', async () => {
    const fs = fakeFs({ [`${APP}/config.json`]: 'file' });
    const { res, requests, events, flags } = await go([denied(denial('FileSystemRead', 'config.json')), OK, OK], { fs });
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(3);
    expect(res.reason).toBeUndefined();
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`]);
    expect(requests).toEqual([
      { run: 1, phase: 'learn', flags: ['--permission'] },
      { run: 2, phase: 'learn', flags: ['--permission', `--allow-fs-read=${APP}/config.json`] },
      { run: 3, phase: 'verify', flags: ['--permission', `--allow-fs-read=${APP}/config.json`] },
    ]);
    expect(res.grants[0]).toMatchObject({ scope: 'fs.read', path: `${APP}/config.json`, kind: 'file' });
    expect(res.grants[0]!.denials.map((d) => d.resource)).toEqual(['config.json']);
    expect(events.filter((e) => e.type === 'granted')).toHaveLength(1);
    expect(events.map((e) => e.type)).toEqual(['run-start', 'run-end', 'granted', 'run-start', 'run-end', 'run-start', 'run-end']);
    expect(res.last).toBe(OK);
  });

  it('a relative resource is resolved against the cwd of the denial, not the app dir', async () => {
    const { flags } = await go([denied(denial('FileSystemRead', '../shared/x.json', { cwd: `${APP}/sub` })), OK, OK]);
    expect(flags).toEqual(['--permission', '--allow-fs-read=/srv/app/shared/x.json']);
  });

  it('several denials in one run are all granted before the next run', async () => {
    const { res, flags } = await go([
      denied(denial('FileSystemRead', `${APP}/a.json`), denial('ChildProcess', '/bin/sh'), denial('FileSystemWrite', `${APP}/out.log`)),
      OK,
      OK,
    ]);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(3);
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/a.json`, `--allow-fs-write=${APP}/out.log`, '--allow-child-process']);
  });

  it("a 'ready' run counts as success", async () => {
    const ready = result({ outcome: 'ready', exitCode: null, readyBy: 'port' });
    const { res } = await go([ready, ready]);
    expect(res).toMatchObject({ status: 'verified', runs: 2, grants: [] });
  });

  it('starts from initial grants', async () => {
    const initial: Grant[] = [{ scope: 'worker', denials: [], notes: [] }];
    const { requests } = await go([OK, OK], { initialGrants: initial });
    expect(requests[0]!.flags).toEqual(['--permission', '--allow-worker']);
  });
});

describe('learn: directories the app creates', () => {
  it('a write on D (missing), then on D/file once D is a directory → D/*', async () => {
    const fs = fakeFs();
    const out = `${APP}/out`;
    const { res, flags, requests } = await go(
      [
        denied(denial('FileSystemWrite', out)),
        () => {
          fs.set(out, 'dir'); // the app's mkdir succeeded in this run
          return denied(denial('FileSystemWrite', `${out}/log.txt`));
        },
        OK,
        OK,
      ],
      { fs },
    );
    expect(requests[1]!.flags).toEqual(['--permission', `--allow-fs-write=${out}`]);
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-write=${out}/*`]);
    expect(res.grants).toHaveLength(1);
    expect(res.grants[0]).toMatchObject({ kind: 'created-dir', path: out });
    expect(res.grants[0]!.denials.map((d) => d.resource)).toEqual([out, `${out}/log.txt`]);
    expect(res.grants[0]!.notes.map((n) => n.code)).toEqual(['created-at-run-time']);
  });

  it('a denied mkdir of a path absent before the first run is the folder the app creates: D/* at once, one run fewer', async () => {
    const out = `${APP}/out`;
    const { res, flags, requests } = await go([denied(denial('FileSystemWrite', out, { call: 'mkdirSync' })), OK, OK]);
    expect(requests.map((r) => r.flags)).toEqual([
      ['--permission'],
      ['--permission', `--allow-fs-write=${out}/*`],
      ['--permission', `--allow-fs-write=${out}/*`],
    ]);
    expect(res).toMatchObject({ status: 'verified', runs: 3 });
    expect(flags).toEqual(['--permission', `--allow-fs-write=${out}/*`]);
    expect(res.grants[0]).toMatchObject({ kind: 'created-dir', path: out });
    expect(res.grants[0]!.notes.map((n) => n.code)).toEqual(['created-at-run-time']);
  });

  it('a denied mkdir of a folder that existed before, or a denied write that is not an mkdir, keeps the exact path', async () => {
    const fs = fakeFs({ [`${APP}/old`]: 'dir' });
    const existing = await go([denied(denial('FileSystemWrite', `${APP}/old`, { call: 'mkdirSync' })), OK, OK], { fs });
    expect(existing.flags).toEqual(['--permission', `--allow-fs-write=${APP}/old`]);
    const written = await go([denied(denial('FileSystemWrite', `${APP}/out.log`, { call: 'appendFileSync' })), OK, OK]);
    expect(written.flags).toEqual(['--permission', `--allow-fs-write=${APP}/out.log`]);
    // A read denied in an mkdir call (none is, but the field is the recorder's word only for writes) grants no folder.
    const read = await go([denied(denial('FileSystemRead', `${APP}/in`, { call: 'mkdirSync' })), OK, OK]);
    expect(read.flags).toEqual(['--permission', `--allow-fs-read=${APP}/in`]);
  });

  it('a path below a missing grant that is still not a directory gets its own exact grant', async () => {
    const { flags } = await go([denied(denial('FileSystemWrite', `${APP}/out`)), denied(denial('FileSystemWrite', `${APP}/out/x`)), OK, OK]);
    expect(flags).toEqual(['--permission', `--allow-fs-write=${APP}/out`, `--allow-fs-write=${APP}/out/x`]);
  });
});

describe("learn: Node's exact-directory prefix quirk", () => {
  const NM = `${APP}/node_modules`;
  const D = `${NM}/cookie`;
  const Dx = `${NM}/cookie-signature`;

  it('a directory denied again while granted beside a sibling Dx is widened to its parent', async () => {
    const fs = fakeFs({ [NM]: 'dir', [D]: 'dir', [Dx]: 'dir' });
    const { res, events, flags, requests } = await go(
      [denied(denial('FileSystemRead', Dx)), denied(denial('FileSystemRead', D)), denied(denial('FileSystemRead', D)), OK, OK],
      { fs },
    );
    expect(requests[2]!.flags).toEqual(['--permission', `--allow-fs-read=${D}`, `--allow-fs-read=${Dx}`]);
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(5);
    expect(flags).toEqual(['--permission', `--allow-fs-read=${NM}`]);
    const widened = events.filter((e) => e.type === 'widened');
    expect(widened).toEqual([expect.objectContaining({ type: 'widened', run: 3, from: D, to: NM, scope: 'fs.read' })]);
    expect((widened[0] as Extract<LearnEvent, { type: 'widened' }>).because).toContain(Dx);
    expect(res.grants[0]!.notes.map((n) => n.code)).toEqual(['widened-for-node-quirk']);
    // the evidence of both the old grants survives in the parent grant
    expect(res.grants[0]!.denials.map((d) => d.resource).sort()).toEqual([D, D, Dx]);
  });

  it('the implicit entry grant counts as a sibling (entry /srv/app/axe.js, grant /srv/app/a)', async () => {
    const fs = fakeFs({ [APP]: 'dir', [`${APP}/a`]: 'dir' });
    const initialGrants: Grant[] = [{ scope: 'fs.read', path: `${APP}/a`, kind: 'dir', denials: [], notes: [] }];
    const withEntry = await go([denied(denial('FileSystemRead', `${APP}/a`)), OK, OK], { fs, initialGrants, implicitReadGrants: [`${APP}/axe.js`] });
    expect(withEntry.res.status).toBe('verified');
    expect(withEntry.flags).toEqual(['--permission', `--allow-fs-read=${APP}`]);
    const without = await go([denied(denial('FileSystemRead', `${APP}/a`))], { fs, initialGrants });
    expect(without.res.status).toBe('no-progress');
    expect(without.res.reason).toContain('denied again');
  });

  it.each<[name: string, d: string, dx: string, why: string]>([
    ['directly under /', '/opt', '/optional', '/ would grant the root directory'],
    ['directly under a top-level dir', '/srv/a', '/srv/ab', '/srv would grant the top-level folder /srv'],
    ['directly under the home directory', `${HOME}/proj`, `${HOME}/proj-old`, `${HOME} would grant the home folder ${HOME}`],
  ])('stops as too broad when the parent would break the breadth rule: %s', async (_name, d, dx, why) => {
    const fs = fakeFs({ [d]: 'dir', [dx]: 'dir' });
    const initialGrants: Grant[] = [d, dx].map((p) => ({ scope: 'fs.read', path: p, kind: 'dir', denials: [], notes: [] }));
    const { res, events } = await go([denied(denial('FileSystemRead', d))], { fs, initialGrants });
    expect(res.status).toBe('too-broad');
    expect(res.runs).toBe(1);
    expect(res.reason).toContain(why);
    expect(res.reason).toContain('--accept-broad');
    expect(res.reason).toContain(dx);
    expect(events.some((e) => e.type === 'widened')).toBe(false);
    expect(res.grants.map((g) => g.path)).toEqual([d, dx]);
  });

  it('a granted file denied again is no-progress, not a widening', async () => {
    const f = `${APP}/secret.txt`;
    const fs = fakeFs({ [f]: 'file' });
    const { res } = await go([denied(denial('FileSystemRead', f)), denied(denial('FileSystemRead', f))], { fs });
    expect(res.status).toBe('no-progress');
    expect(res.runs).toBe(2);
    expect(res.reason).toBe(`FileSystemRead on ${f} is denied again although ${f} is granted`);
  });

  it('a boolean scope denied again although granted is no-progress', async () => {
    const { res } = await go([denied(denial('WorkerThreads', '')), denied(denial('WorkerThreads', ''))]);
    expect(res.status).toBe('no-progress');
    expect(res.reason).toContain("'worker' is granted but Node still denied it");
  });
});

describe('learn: where denials come from', () => {
  it('denial text on stderr while the recorder ran is not granted: app-failed', async () => {
    const { res, requests } = await go([result({ stderrDenials: [denial('FileSystemRead', '/etc/shadow', { source: 'stderr' })] })]);
    expect(res.status).toBe('app-failed');
    expect(res.runs).toBe(1);
    expect(requests).toHaveLength(1);
    expect(res.grants).toEqual([]);
    expect(res.reason).toContain('exited with code 1 without a permission denial');
    expect(res.reason).toContain('does not grant on printed text');
  });

  it('a failure with no denial anywhere is app-failed without the printed-text hint', async () => {
    const { res } = await go([result({ exitCode: 3 })]);
    expect(res.status).toBe('app-failed');
    expect(res.reason).toBe('the app exited with code 3 without a permission denial');
  });

  it('without the recorder nothing is evidence: stderr denial text grants nothing (app-failed)', async () => {
    const { res, requests } = await go([
      result({
        recorderLoaded: false,
        denials: [denial('FileSystemRead', '/ignored')],
        stderrDenials: [{ permission: 'FileSystemRead', resource: `${APP}/data.json`, code: 'ERR_ACCESS_DENIED', source: 'stderr' }],
      }),
    ]);
    expect(res.status).toBe('app-failed');
    expect(requests).toHaveLength(1);
    expect(res.grants).toEqual([]);
    expect(res.reason).toBe(
      "the app exited with code 1 without a permission denial reported by permlearn's recorder, which did not load in any Node process it started (its stderr shows denial text; permlearn does not grant on printed text)",
    );
  });

  it('the app could not be started: app-failed with its error', async () => {
    const { res } = await go([result({ outcome: 'spawn-error', exitCode: null, error: 'ENOENT node' })]);
    expect(res).toMatchObject({ status: 'app-failed', reason: 'ENOENT node', runs: 1 });
  });

  it('caught denials seen on the channel are reported as observed, not granted', async () => {
    const probe = denial('FileSystemRead', '/etc/hostname', { source: 'channel' });
    const spurious = denial('Inspector', '', { source: 'channel' });
    const { res } = await go([result({ exitCode: 0, denials: [probe, spurious] }), OK]);
    expect(res.status).toBe('verified');
    expect(res.grants).toEqual([]);
    expect(res.observed).toEqual([probe]);
  });
});

describe('learn: what cannot be granted', () => {
  it.each<[name: string, d: Denial, code: string, reason: RegExp]>([
    ['fsync', denial('', '', { message: 'fsync API is disabled when Permission Model is enabled.' }), 'fd-sync-api', /fsync\(\) is always disabled/],
    ['fchmod', denial('', '', { message: 'fchmod API is disabled when Permission Model is enabled.' }), 'fd-sync-api', /fchmod\(\)/],
    ['symlink', denial('', '', { message: 'fs.symlink API requires full fs.read and fs.write permissions.' }), 'symlink-needs-full-fs', /--allow-fs-read=\*/],
    ['symlink on the 26 channel', denial('FileSystem', '', { source: 'uncaught' }), 'symlink-needs-full-fs', /fs\.symlink/],
    ['process.binding', denial('', '', { message: 'process.binding' }), 'process-binding', /process\.binding/],
    ['an unknown permission', denial('Teleport', 'x'), 'unknown-permission', /Teleport/],
  ])('%s → ungrantable', async (_name, d, code, reason) => {
    const { res } = await go([denied(d)]);
    expect(res.status).toBe('ungrantable');
    expect(res.runs).toBe(1);
    expect(res.ungrantable).toEqual([expect.objectContaining({ code, denial: d })]);
    expect(res.reason).toMatch(reason);
  });

  it('an ungrantable denial beside a grantable one: grant, rerun, then stop on the ungrantable alone', async () => {
    const fsync = denial('', '', { message: 'fsync API is disabled when Permission Model is enabled.' });
    const { res } = await go([denied(fsync, denial('FileSystemWrite', `${APP}/db.json`)), denied(fsync)]);
    expect(res.status).toBe('ungrantable');
    expect(res.runs).toBe(2);
    expect(res.grants.map((g) => g.path)).toEqual([`${APP}/db.json`]);
    expect(res.ungrantable).toHaveLength(1);
  });

  it.each<[version: string, permission: string, resource: string, outcome: string]>([
    ['v22.23.3', 'Inspector', 'Connect', 'ungrantable'],
    ['v22.23.3', 'Net', '127.0.0.1', 'ungrantable'],
    ['v24.21.0', 'Net', '127.0.0.1', 'ungrantable'],
    ['v20.20.2', 'OpenSSLStore', '', 'ungrantable'],
    ['v24.21.0', 'FFI', '', 'ungrantable'],
    ['v24.21.0', 'Inspector', 'Connect', '--allow-inspector'],
    ['v24.21.0', 'OpenSSLStore', '', '--allow-openssl-store'],
    ['v26.10.0', 'Net', '127.0.0.1', '--allow-net'],
    ['v26.10.0', 'FFI', '', '--allow-ffi'],
    ['v20.20.2', 'WASI', '', '--allow-wasi'],
    ['v22.23.3', 'Addon', '', '--allow-addons'],
  ])('Node %s, %s → %s', async (version, permission, resource, outcome) => {
    const c = caps(version);
    const d = permission === 'Addon' ? denial('Addon', '', { code: 'ERR_DLOPEN_DISABLED' }) : denial(permission, resource);
    const { res, flags } = await go([denied(d), OK, OK], { caps: c });
    if (outcome === 'ungrantable') {
      expect(res.status).toBe('ungrantable');
      expect(res.ungrantable).toEqual([expect.objectContaining({ code: 'scope-not-in-version' })]);
      expect(res.reason).toContain(`Node ${version} has no flag`);
    } else {
      expect(res.status).toBe('verified');
      expect(flags).toEqual([c.enableFlag, outcome]);
    }
  });
});

describe('learn: limits and verification', () => {
  it('stops at the run limit while the app is still denied', async () => {
    const steps = [1, 2, 3, 4, 5].map((i) => denied(denial('FileSystemRead', `${APP}/f${i}.js`)));
    const { res, requests } = await go(steps, { maxRuns: 3 });
    expect(res.status).toBe('run-limit');
    expect(res.runs).toBe(3);
    expect(requests).toHaveLength(3);
    expect(res.grants).toHaveLength(3);
    expect(res.reason).toContain('stopped after 3 runs');
  });

  it('a verification run that fails is verify-failed', async () => {
    const { res, requests } = await go([OK, result({ exitCode: 1 })]);
    expect(res.status).toBe('verify-failed');
    expect(res.runs).toBe(2);
    expect(requests.map((r) => r.phase)).toEqual(['learn', 'verify']);
    expect(res.reason).toBe('the verification run with exactly the learned flags exited with code 1');
  });

  it.each<[RunResult, string]>([
    [result({ outcome: 'timeout', exitCode: null }), 'neither exited nor became ready in time'],
    [result({ exitCode: null, signal: 'SIGABRT' }), 'was killed by SIGABRT'],
  ])('verification failure reasons: %#', async (check, text) => {
    const { res } = await go([OK, check]);
    expect(res.status).toBe('verify-failed');
    expect(res.reason).toContain(text);
    expect(res.last).toBe(check);
  });
});

describe('learn: mkdtemp', () => {
  it('a template gives a prefix grant, and a later read inside the temp dir reuses the prefix', async () => {
    const { res, flags } = await go([
      denied(denial('FileSystemWrite', '/tmp/app-XXXXXX')),
      denied(denial('FileSystemRead', '/tmp/app-Ab12Cd/state.json')),
      OK,
      OK,
    ]);
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', '--allow-fs-read=/tmp/app-*', '--allow-fs-write=/tmp/app-*']);
    for (const g of res.grants) {
      expect(g).toMatchObject({ kind: 'prefix', path: '/tmp/app-' });
      expect(g.notes.map((n) => n.code)).toEqual(['mkdtemp-prefix']);
    }
  });

  it('a relative template resolves against the cwd', async () => {
    const { flags } = await go([denied(denial('FileSystemWrite', 'tmp/run-XXXXXX')), OK, OK]);
    expect(flags).toEqual(['--permission', `--allow-fs-write=${APP}/tmp/run-*`]);
  });

  it.each([
    ['/tmp/XXXXXX', '/tmp/* covers everything in /tmp, the top-level folder /tmp'],
    [`${HOME}/XXXXXX`, `${HOME}/* covers everything in ${HOME}, the home folder ${HOME}`],
    [`${HOME}XXXXXX`, `${HOME}* covers the home folder ${HOME}`],
    ['/tXXXXXX', '/t* covers every top-level folder whose name starts with t'],
  ])('a template that reaches a whole top-level or home folder (%s) is refused as too broad', async (template, why) => {
    const { res } = await go([denied(denial('FileSystemWrite', template)), denied(denial('FileSystemWrite', template))]);
    expect(res.status).toBe('too-broad');
    expect(res.grants).toEqual([]);
    expect(res.reason).toContain(why);
    expect(res.refused.map((r) => r.violation.value)).toEqual([`${template.slice(0, -6)}*`]);
  });

  it('a read template is an ordinary path (only mkdtemp, a write, reports templates)', async () => {
    const { flags } = await go([denied(denial('FileSystemRead', `${APP}/XXXXXX`)), OK, OK]);
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/XXXXXX`]);
  });
});

describe('selectDenials', () => {
  const u = denial('FileSystemRead', '/u');
  const l = denial('FileSystemRead', '/l', { source: 'logged' });
  const c = denial('FileSystemRead', '/c', { source: 'channel' });
  const cNoSite = denial('FileSystemRead', '/c2', { source: 'channel', site: undefined });
  const insp = denial('Inspector', '', { source: 'channel' });
  const s = denial('FileSystemRead', '/s', { source: 'stderr' });
  it.each<[name: string, r: RunResult, picked: Denial[]]>([
    ['uncaught first', result({ denials: [c, l, u] }), [u]],
    ['duplicates merged', result({ denials: [u, { ...u }, denial('FileSystemRead', 'u', { cwd: '/' })] }), [{ ...u, hits: 3 }]],
    ['logged when nothing escaped', result({ denials: [c, l] }), [l]],
    ['channel with a site when nothing else', result({ denials: [cNoSite, insp, c] }), [c]],
    ['nothing after a successful run', result({ exitCode: 0, denials: [l, c] }), []],
    ['uncaught even after a successful run', result({ exitCode: 0, denials: [u] }), [u]],
    ['nothing without the recorder, stderr included', result({ recorderLoaded: false, denials: [u], stderrDenials: [s] }), []],
    ['stderr ignored with the recorder', result({ stderrDenials: [s] }), []],
  ])('%s', (_name, r, picked) => {
    expect(selectDenials(r)).toEqual(picked);
  });
});

describe('learn: audit first (Node 24+)', () => {
  const ch = (permission: string, resource: string, extra: Partial<Denial> = {}) => denial(permission, resource, { source: 'channel', ...extra });

  it('grants what one audit run saw, less package-scope directories and Worker Inspector noise, then confirms', async () => {
    const fs = fakeFs({ [`${APP}/a.js`]: 'file', [`${APP}/node_modules/x/index.js`]: 'file', [`${APP}/node_modules/x`]: 'dir', [APP]: 'dir' });
    const audit = result({
      exitCode: 0,
      denials: [
        ch('FileSystemRead', APP, { site: undefined }),
        ch('FileSystemRead', `${APP}/node_modules/x`, { loader: true }),
        ch('FileSystemRead', 'a.js'),
        ch('FileSystemRead', `${APP}/node_modules/x/index.js`),
        ch('FileSystemRead', `${APP}/node_modules/x/index.js`),
        ch('Inspector', ''),
        ch('WorkerThreads', ''),
      ],
    });
    const { res, requests, events } = await go([audit, OK, OK], { fs, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(3);
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'learn', 'verify']);
    expect(requests[1]!.flags).toEqual(['--permission', `--allow-fs-read=${APP}/a.js`, `--allow-fs-read=${APP}/node_modules/x/index.js`, '--allow-worker']);
    expect(events).toContainEqual({ type: 'audit-done', run: 1, events: 7, candidates: 3 });
  });

  it('a directory the audit run created (absent when checked) becomes dir/*', async () => {
    const fs = fakeFs({ [`${APP}/logs`]: 'dir' }); // exists now: the audit run made it
    const audit = result({
      exitCode: 0,
      denials: [ch('FileSystemWrite', `${APP}/logs`, { existed: false }), ch('FileSystemWrite', `${APP}/logs/app.log`, { existed: false })],
    });
    const { res, flags } = await go([audit, OK, OK], { fs, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-write=${APP}/logs/*`]);
  });

  it('a strategy whose priming run is a plain enforce run, with no event of its own: the loop closes that run with prime-done', async () => {
    const enforceFirst: PrimeStrategy = {
      name: 'rerun',
      phase: 'learn',
      maxRounds: 1,
      survivedIsSoft: false,
      extraGrants: () => [],
      candidates: (r) => selectDenials(r),
      seen: () => ({ observed: [], lookups: [] }),
      again: () => false,
    };
    const fs = fakeFs({ [`${APP}/config.json`]: 'file' });
    const { res, requests, events, flags } = await go([denied(denial('FileSystemRead', 'config.json')), OK, OK], { fs, strategy: enforceFirst });
    expect(res.status).toBe('verified');
    expect(requests.map((r) => r.phase)).toEqual(['learn', 'learn', 'verify']);
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/config.json`]);
    expect(events.filter((e) => e.type === 'prime-done')).toEqual([{ type: 'prime-done', strategy: 'rerun', run: 1, candidates: 1 }]);
  });

  it('whatever the audit missed, the enforce runs still learn', async () => {
    const fs = fakeFs({ [`${APP}/data`]: 'dir' });
    // A directory read with no call site of the app's: not told apart from the loader's, so not granted.
    const audit = result({ exitCode: 0, denials: [ch('FileSystemRead', `${APP}/data`, { site: undefined })] });
    const { res, flags } = await go([audit, denied(denial('FileSystemRead', `${APP}/data`)), OK, OK], { fs, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(res.runs).toBe(4);
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/data`]);
  });

  it("a directory the app's own fs call read (tsc listing its project, a logger checking its folder) is granted from the audit run", async () => {
    const fs = fakeFs({ [`${APP}/logs`]: 'dir', [`${APP}/node_modules/x`]: 'dir' });
    const audit = result({
      exitCode: 0,
      denials: [
        ch('FileSystemRead', 'logs', { site: `${APP}/node_modules/logger/index.js:10:3` }),
        ch('FileSystemRead', `${APP}/node_modules/x`, { site: `${APP}/index.js:1:1`, loader: true }),
      ],
    });
    const { res, flags, requests } = await go([audit, OK, OK], { fs, strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'learn', 'verify']);
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/logs`]);
  });
});

describe('learn: observe first (Node 20/22)', () => {
  const NODE22 = caps('v22.23.3');
  const NODE20 = caps('v20.20.2');
  const observed = result({
    exitCode: 0,
    modules: [
      { file: `${APP}/index.js` },
      { file: `${APP}/node_modules/x/lib/a.js`, from: `${APP}/node_modules/x/index.js` },
      { file: `${APP}/node_modules/x/index.js`, from: `${APP}/index.js` },
    ],
    probes: [
      { file: `${APP}/node_modules/x/package.json`, from: `${APP}/index.js` },
      { file: `${APP}/node_modules/x/node_modules/y/package.json`, from: `${APP}/node_modules/x/index.js` },
      { file: `${APP}/node_modules/x/lib/package.json`, from: `${APP}/node_modules/x/index.js` },
    ],
  });
  const fs = () =>
    fakeFs({
      [`${APP}/node_modules`]: 'dir',
      [`${APP}/node_modules/x/package.json`]: 'file',
      [`${APP}/node_modules/x/index.js`]: 'file',
      [`${APP}/node_modules/x/lib/a.js`]: 'file',
    });

  it('on 22 grants the loaded modules and the package.json files the resolver checks, less the entry', async () => {
    const { res, requests } = await go([observed, OK, OK], {
      caps: NODE22,
      fs: fs(),
      strategy: learnStrategy('observe', { root: APP }),
      implicitReadGrants: [`${APP}/index.js`],
    });
    expect(res.status).toBe('verified');
    expect(requests.map((r) => r.phase)).toEqual(['observe', 'learn', 'verify']);
    expect(requests[1]!.flags).toEqual([
      '--permission',
      `--allow-fs-read=${APP}/node_modules/x/index.js`,
      `--allow-fs-read=${APP}/node_modules/x/lib/a.js`,
      // a directory module's own manifest is checked although it does not exist
      `--allow-fs-read=${APP}/node_modules/x/lib/package.json`,
      `--allow-fs-read=${APP}/node_modules/x/package.json`,
    ]);
    // The nested node_modules folder does not exist, so the resolver never looked inside it.
    const helper = res.grants.find((g) => g.path === `${APP}/node_modules/x/lib/a.js`);
    expect(helper?.denials[0]).toMatchObject({ source: 'loaded', site: `${APP}/node_modules/x/index.js` });
  });

  it('on 20 grants the loaded modules, the entry among them, and no package.json (20 does not check them)', async () => {
    const { requests } = await go([observed, OK, OK], { caps: NODE20, fs: fs(), strategy: learnStrategy('observe', { root: APP }) });
    expect(requests[0]).toMatchObject({ phase: 'observe', flags: ['--experimental-permission'] });
    expect(requests[1]!.flags).toEqual([
      '--experimental-permission',
      `--allow-fs-read=${APP}/index.js`, // 20 grants no entry by itself
      `--allow-fs-read=${APP}/node_modules/x/index.js`,
      `--allow-fs-read=${APP}/node_modules/x/lib/a.js`,
    ]);
  });
});

describe('learn: generalisation while learning', () => {
  const gen = { granularity: 'deps' as const, root: APP, tmpdir: '/tmp' };
  it('a dependency file grants node_modules, and later files in it are evidence, not runs', async () => {
    const fs = fakeFs({
      [`${APP}/node_modules`]: 'dir',
      [`${APP}/node_modules/a`]: 'dir',
      [`${APP}/node_modules/a/index.js`]: 'file',
      [`${APP}/node_modules/b/index.js`]: 'file',
    });
    const { res, flags, requests } = await go([denied(denial('FileSystemRead', `${APP}/node_modules/a/index.js`)), OK, OK], { fs, generalise: gen });
    expect(res.status).toBe('verified');
    expect(requests).toHaveLength(3);
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/node_modules`]);
    expect(res.grants[0]!.notes[0]).toMatchObject({ code: 'generalised' });
  });

  it('the prefix-quirk fix never reaches above the project root', async () => {
    // The root is /srv/app/data-root; a directory at its top denied beside a sibling would need /srv/app.
    const root = `${APP}/r`;
    const fs = fakeFs({ [root]: 'dir', [`${root}/d`]: 'dir', [`${root}/dx.txt`]: 'file' });
    const steps = [
      denied(denial('FileSystemRead', `${root}/dx.txt`)),
      denied(denial('FileSystemRead', `${root}/d`)),
      denied(denial('FileSystemRead', `${root}/d`)),
    ];
    const inside = await go([steps[0]!, steps[1]!, steps[2]!, OK, OK], { fs, generalise: { ...gen, granularity: 'file', root } });
    // Widening to the root itself is allowed (it is not above it) ...
    expect(inside.flags).toEqual(['--permission', `--allow-fs-read=${root}`]);
    const above = await go(steps, { fs, generalise: { ...gen, granularity: 'file', root: `${root}/d` } });
    // ... but with the root at /srv/app/r/d the fix (/srv/app/r) would be above it.
    expect(above.res.status).toBe('too-broad');
    expect(above.res.reason).toMatch(/a folder above the project/);
  });

  it('the prefix-quirk fix never exposes a secret', async () => {
    const root = `${APP}/r`;
    const fs = { ...fakeFs({ [root]: 'dir', [`${root}/d`]: 'dir', [`${root}/dx.txt`]: 'file' }), secretsUnder: (d: string) => (d === root ? ['.env'] : []) };
    const steps = [
      denied(denial('FileSystemRead', `${root}/dx.txt`)),
      denied(denial('FileSystemRead', `${root}/d`)),
      denied(denial('FileSystemRead', `${root}/d`)),
    ];
    const r = await go(steps, { fs, generalise: { ...gen, granularity: 'file', root } });
    expect(r.res.status).toBe('no-progress');
    expect(r.res.reason).toMatch(/would expose \.env/);
  });
});

describe('learn: exercise commands', () => {
  it('a ready run whose exercise failed is not a success: its caught denial is granted', async () => {
    const fs = fakeFs({ [`${APP}/public`]: 'dir' });
    const failed = result({
      outcome: 'ready',
      readyBy: 'stdout',
      exercise: [{ command: 'curl x', exitCode: 22, durationMs: 3 }],
      denials: [denial('FileSystemRead', `${APP}/public`, { source: 'channel' })],
    });
    const passed = result({ outcome: 'ready', readyBy: 'stdout', exercise: [{ command: 'curl x', exitCode: 0, durationMs: 3 }] });
    const { res, flags } = await go([failed, passed, passed], { fs });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/public`]);
  });

  it('an exercise that fails with no denial is app-failed, naming the command', async () => {
    const failed = result({ outcome: 'ready', exercise: [{ command: 'curl -f http://x/', exitCode: 22, durationMs: 3 }] });
    const { res } = await go([failed]);
    expect(res.status).toBe('app-failed');
    expect(res.reason).toBe('the exercise command `curl -f http://x/` exited with code 22 with no permission denial seen in the app');
  });
});

describe('learn: --minimize', () => {
  const gen = { granularity: 'deps' as const, root: APP, tmpdir: '/tmp' };
  it('drops a grant the app starts without, narrows a widened one to its few files, keeps the rest, then verifies', async () => {
    const fs = fakeFs({ [`${APP}/config`]: 'dir', [`${APP}/config/a.json`]: 'file', [`${APP}/config/b.json`]: 'file' });
    const needs = (req: RunRequest, flag: string) => renderFlags(req.grants, NODE26).includes(flag);
    const app = (req: RunRequest): RunResult => {
      const flags = renderFlags(req.grants, NODE26);
      // The app reads config/a.json and needs a child process; the worker it only tries (and survives without).
      if (!flags.some((f) => f === `--allow-fs-read=${APP}/config` || f === `--allow-fs-read=${APP}/config/a.json`))
        return denied(denial('FileSystemRead', `${APP}/config/a.json`));
      if (!needs(req, '--allow-child-process')) return denied(denial('ChildProcess', ''));
      return OK;
    };
    const first = denied(denial('FileSystemRead', `${APP}/config/a.json`), denial('ChildProcess', ''), denial('WorkerThreads', ''));
    const { res, flags, requests, events } = await go([first, ...Array.from({ length: 12 }, () => app)], { fs, generalise: gen, minimize: true });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/config/a.json`, '--allow-child-process']);
    expect(res.minimized?.removed.map((g) => g.scope)).toEqual(['worker']);
    expect(res.minimized?.narrowed.map((n) => n.from.path)).toEqual([`${APP}/config`]);
    expect(requests.at(-1)).toMatchObject({ phase: 'verify', flags });
    expect(requests.filter((r) => r.phase === 'minimize').length).toBeGreaterThanOrEqual(3);
    expect(events.filter((e) => e.type === 'minimized').map((e) => e.type === 'minimized' && e.outcome)).toEqual(['kept', 'removed', 'narrowed']);
  });

  it('stops at the run budget and reports what it did not try', async () => {
    const fs = fakeFs({ [`${APP}/a.json`]: 'file' });
    const first = denied(denial('FileSystemRead', `${APP}/a.json`), denial('ChildProcess', ''));
    const { res } = await go([first, OK, OK, denied(denial('ChildProcess', ''))], { fs, minimize: true, maxRuns: 4 });
    expect(res.status).toBe('verified');
    expect(res.minimized?.untried.map((g) => g.scope)).toEqual(['fs.read']);
  });
});

describe('preferPresent', () => {
  const fs = fakeFs({ [`${APP}/out`]: 'dir' });
  const probe = denial('FileSystemRead', '/node_modules/@types', { source: 'caught' });
  const write = denial('FileSystemWrite', `${APP}/out/a.js`, { source: 'caught' });
  it('acts on what the app caught before the lookups of missing paths it handled', () => {
    expect(preferPresent([probe, write], fs)).toEqual([write]);
  });
  it('grants a lookup when nothing else is left', () => {
    expect(preferPresent([probe], fs)).toEqual([probe]);
  });
  it('never holds back a denial that escaped', () => {
    const escaped = { ...probe, source: 'uncaught' as const };
    expect(preferPresent([escaped, write], fs)).toEqual([escaped, write]);
  });
});

describe('learn: lookups from the same call site', () => {
  const site = `${APP}/node_modules/tool/config.js:10:5`;
  const lookup = (name: string): Denial => denial('FileSystemRead', `${APP}/${name}`, { source: 'channel', existed: false, site });
  it('when one missing path a search looked up is needed, the others it looked up come with it', async () => {
    const audit = result({ exitCode: 0, denials: [lookup('tool.config.js'), lookup('tool.config.mjs'), lookup('tool.config.json')] });
    const needs = denied(denial('FileSystemRead', `${APP}/tool.config.js`, { source: 'uncaught', site }));
    const { res, flags, requests } = await go([audit, needs, OK, OK], { strategy: learnStrategy('audit') });
    expect(res.status).toBe('verified');
    // One enforce run instead of three.
    expect(requests.map((r) => r.phase)).toEqual(['audit', 'learn', 'learn', 'verify']);
    expect(flags).toEqual([
      '--permission',
      `--allow-fs-read=${APP}/tool.config.js`,
      `--allow-fs-read=${APP}/tool.config.json`,
      `--allow-fs-read=${APP}/tool.config.mjs`,
    ]);
  });

  it('siblingLookups: only missing needed paths, the same site, and nothing covered', () => {
    const fs = fakeFs({ [`${APP}/present.json`]: 'file' });
    const pool = [lookup('a'), lookup('b'), { ...lookup('c'), site: 'elsewhere.js:1:1' }];
    expect(siblingLookups([denial('FileSystemRead', `${APP}/a`, { site })], pool, [], fs).map((d) => d.resource)).toEqual([`${APP}/b`]);
    // A needed file that exists is an ordinary read: no search to complete.
    expect(siblingLookups([denial('FileSystemRead', `${APP}/present.json`, { site })], pool, [], fs)).toEqual([]);
  });
});

describe('learn: observe again while a denial outside the wide grant cuts the run short', () => {
  it('observes until the run gets through, a denied write included, then verifies what it saw', async () => {
    const OBSERVE_FAIL_READ = result({ denials: [denial('FileSystemRead', '/etc/app.conf')], modules: [{ file: `${APP}/index.js` }] });
    const OBSERVE_FAIL_WRITE = result({ denials: [denial('FileSystemWrite', `${APP}/out.txt`)], modules: [{ file: `${APP}/index.js` }] });
    const fs = fakeFs({ '/etc/app.conf': 'file', [`${APP}/index.js`]: 'file' });
    const { requests, flags } = await go([OBSERVE_FAIL_READ, OBSERVE_FAIL_WRITE, OK, OK], {
      fs,
      strategy: learnStrategy('observe', { root: APP }),
      caps: caps('v22.23.3'),
      fold: true,
    });
    // The write stopped the second observe run: a third sees the rest (a lookup it would not survive
    // denied, a config search), runs to the end, and the verification confirms it.
    expect(requests.map((r) => r.phase)).toEqual(['observe', 'observe', 'observe', 'verify']);
    expect(flags).toEqual(['--permission', '--allow-fs-read=/etc/app.conf', `--allow-fs-read=${APP}/index.js`, `--allow-fs-write=${APP}/out.txt`]);
  });
});

describe('learn: the breadth rule holds whatever the app does', () => {
  const gen = { granularity: 'deps' as const, root: APP, tmpdir: '/tmp' };
  const kinds = {
    '/': 'dir',
    [HOME]: 'dir',
    '/srv': 'dir',
    [APP]: 'dir',
    '/tmp': 'dir',
    [`${APP}/x*`]: 'file',
    [`${APP}/*`]: 'dir',
    [`${APP}/lib`]: 'dir',
    [`${APP}/lib/x*`]: 'file',
  } as const;
  it.each<[name: string, d: Denial, value: string]>([
    ['readdirSync("/")', denial('FileSystemRead', '/'), '/'],
    ['listing the home folder', denial('FileSystemRead', HOME), HOME],
    ['listing the folder above the project', denial('FileSystemRead', '..'), '/srv'],
    ["readFileSync('/*')", denial('FileSystemRead', '/*'), '/*'],
    ["readFileSync('../../*')", denial('FileSystemRead', '../../*', { cwd: `${APP}/sub` }), '/srv/*'],
    ['a file named x* in the project root', denial('FileSystemRead', 'x*'), `${APP}/x*`],
    ['a folder named * in the project root', denial('FileSystemRead', `${APP}/*`), `${APP}/*`],
    ['mkdtempSync(os.homedir())', denial('FileSystemWrite', `${HOME}XXXXXX`), `${HOME}*`],
    ["mkdtempSync('/t')", denial('FileSystemWrite', '/tXXXXXX'), '/t*'],
    ['writing the temporary directory itself', denial('FileSystemWrite', '/tmp'), '/tmp'],
  ])('%s: refused, exit too-broad, nothing granted', async (_name, d, value) => {
    const { res, requests } = await go([denied(d), denied(d)], { fs: fakeFs({ ...kinds }), generalise: gen });
    expect(res.status).toBe('too-broad');
    expect(res.grants).toEqual([]);
    expect(res.refused.map((r) => r.violation.value)).toEqual([value]);
    expect(res.reason).toContain(`--accept-broad '${value}'`);
    // It stopped at once: the run that asked is the only run; nothing was ever run with the grant.
    expect(requests.map((r) => r.flags)).toEqual([['--permission']]);
  });

  it('a file with * in its name inside a folder of the app is granted through its folder, never as a wildcard', async () => {
    const { res, flags } = await go([denied(denial('FileSystemRead', `${APP}/lib/x*`)), OK, OK], { fs: fakeFs({ ...kinds }), generalise: gen });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/lib`]);
  });

  it('with --granularity file the same file cannot be granted exactly: refused', async () => {
    const { res } = await go([denied(denial('FileSystemRead', `${APP}/lib/x*`))], { fs: fakeFs({ ...kinds }), generalise: { ...gen, granularity: 'file' } });
    expect(res.status).toBe('too-broad');
    expect(res.reason).toContain("has a '*' in it, which Node reads as a wildcard");
  });

  it('a caught read of / on a clean start is not granted, and reported', async () => {
    const caught = denial('FileSystemRead', '/', { source: 'caught' });
    const { res, flags } = await go([result({ exitCode: 0, denials: [caught] }), OK], { fs: fakeFs({ ...kinds }), generalise: gen });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission']);
    expect(res.refused.map((r) => r.violation.value)).toEqual(['/']);
  });

  it('an audit run that saw / and the home folder primes neither', async () => {
    const seen = [denial('FileSystemRead', '/etc/hosts', { source: 'channel' }), denial('FileSystemWrite', HOME, { source: 'channel' })];
    const { res, requests } = await go([result({ exitCode: 0, denials: seen }), OK, OK], {
      fs: fakeFs({ ...kinds, '/etc/hosts': 'file' }),
      generalise: gen,
      strategy: learnStrategy('audit'),
    });
    expect(res.status).toBe('verified');
    expect(requests[1]!.flags).toEqual(['--permission', '--allow-fs-read=/etc/hosts']);
    expect(res.refused.map((r) => r.violation.value)).toEqual([HOME]);
  });

  it('initial grants that break the rule are never verified', async () => {
    const initialGrants: Grant[] = [{ scope: 'fs.read', path: '/', kind: 'dir', denials: [], notes: [] }];
    const { res, requests } = await go([OK], { fs: fakeFs({ ...kinds }), generalise: gen, initialGrants });
    expect(res.status).toBe('too-broad');
    expect(requests.map((r) => r.phase)).toEqual(['learn']);
    expect(res.grants).toEqual([]);
  });

  it('--accept-broad lets exactly the named grant through, with a note', async () => {
    const d = denial('FileSystemRead', HOME);
    const { res, flags } = await go([denied(d), OK, OK], { fs: fakeFs({ ...kinds }), generalise: gen, acceptBroad: [HOME] });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${HOME}`]);
    expect(res.grants[0]!.notes.map((n) => n.code)).toEqual(['accepted-broad']);
    const other = await go([denied(d)], { fs: fakeFs({ ...kinds }), generalise: gen, acceptBroad: [`${HOME}/*`, '/'] });
    expect(other.res.status).toBe('too-broad');
  });
});

describe('learn: the initial state and volatile paths', () => {
  const volatile = { tmpdir: '/tmp', known: [APP], permlearnOwn: (p: string) => (p.startsWith('/opt/permlearn/') ? 'inside permlearn' : undefined) };

  it('grants a read below a folder the app created as dir/*, from the initial state and not from what the run left', async () => {
    // The run leaves logs/ and its state file behind; before the first run neither existed.
    const now = fakeFs({ [`${APP}/logs`]: 'dir', [`${APP}/logs/.audit.json`]: 'file' });
    const fs: FsProbe = { ...now, initialKind: (p) => (p.startsWith(`${APP}/logs`) ? 'missing' : now.kind(p)) };
    const caught = denial('FileSystemRead', `${APP}/logs/.audit.json`, { source: 'caught' });
    const { res, flags } = await go([result({ exitCode: 0, denials: [caught] }), OK, OK], {
      fs,
      generalise: { granularity: 'deps', root: APP, tmpdir: '/tmp' },
    });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/logs/*`]);
  });

  it('grants the plain folder when it existed before the first run', async () => {
    const fs = fakeFs({ [`${APP}/logs`]: 'dir', [`${APP}/logs/.audit.json`]: 'file' });
    const caught = denial('FileSystemRead', `${APP}/logs/.audit.json`, { source: 'caught' });
    const { flags } = await go([result({ exitCode: 0, denials: [caught] }), OK, OK], { fs, generalise: { granularity: 'deps', root: APP, tmpdir: '/tmp' } });
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/logs`]);
  });

  it('sets aside what the app got by without, and lists it', async () => {
    const fs = fakeFs({ '/proc/4711/stat': 'file', '/opt/permlearn/node_modules/yargs/index.js': 'file' });
    const caught = [
      denial('FileSystemRead', '/proc/4711/stat', { source: 'caught' }),
      denial('FileSystemRead', '/opt/permlearn/node_modules/yargs/index.js', { source: 'caught' }),
    ];
    const { res, flags } = await go([result({ exitCode: 0, denials: caught }), OK], { fs, volatile });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission']);
    expect(res.setAside?.map((s) => [s.kind, s.path, s.optional])).toEqual([
      ['per-process', '/proc/4711/stat', true],
      ['permlearn', '/opt/permlearn/node_modules/yargs/index.js', true],
    ]);
    expect(res.observed).toEqual([]);
  });

  it('stops, saying why, when the app cannot do without a per-process path', async () => {
    const fs = fakeFs({ '/proc/4711/stat': 'file' });
    const { res } = await go([denied(denial('FileSystemRead', '/proc/4711/stat'))], { fs, volatile });
    expect(res.status).toBe('ungrantable');
    expect(res.reason).toMatch(/\/proc\/4711\/stat names process 4711/);
    expect(res.setAside?.[0]?.optional).toBe(false);
  });

  it('a failed run denied only a set-aside path and a lookup failed for the lookup (fs.existsSync throws): the lookup is granted', async () => {
    // ESLint 9: module.enableCompileCache() is denied its cache folder (it gets by without), then
    // existsSync(.eslintignore) throws and the CLI's own catch-all prints "Oops!" and exits 2.
    const cache = denial('FileSystemWrite', '/tmp/node-compile-cache/v26.12.1-x64-310b2ce3-0', { source: 'channel', site: `${APP}/bin/cli.js:15:25` });
    const ignore = denial('FileSystemRead', `${APP}/.eslintignore`, { source: 'channel', site: `${APP}/lib/cli.js:765:7` });
    const { res, flags, requests } = await go([result({ exitCode: 2, denials: [cache, ignore] }), result({ exitCode: 0, denials: [cache] }), OK], { volatile });
    expect(res.status).toBe('verified');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${APP}/.eslintignore`]);
    expect(requests.map((r) => r.phase)).toEqual(['learn', 'learn', 'verify']);
    expect(res.setAside?.map((s) => s.kind)).toEqual(['compile-cache']);
  });

  it('grants a numbered /proc/self path as its folder, with a note', async () => {
    const fs = fakeFs({ '/proc/self/fd': 'dir', '/proc/self/fd/3': 'file' });
    const { res, flags } = await go([denied(denial('FileSystemRead', '/proc/self/fd/3')), OK, OK], { fs, volatile });
    expect(flags).toEqual(['--permission', '--allow-fs-read=/proc/self/fd']);
    expect(res.grants[0]!.notes.map((n) => n.code)).toEqual(['stable-form']);
  });
});

describe("learn: a Node child that lost the command line's flags", () => {
  const data = `${APP}/data/rows.json`;
  const conf = `${APP}/conf/scale.json`;
  const fs = fakeFs({ [data]: 'file', [conf]: 'file' });
  // The child kept one --allow-fs-read (the last), as a key→value rebuild of its execArgv does.
  const inChild = (resource: string, kept: string) =>
    denial('FileSystemRead', resource, { thread: 'child', given: { execArgv: ['--permission', `--allow-fs-read=${kept}`], nodeOptions: [] } });

  it('switches to NODE_OPTIONS once and verifies, the flags unchanged', async () => {
    let switched = 0;
    const { res, events, flags } = await go([denied(inChild(data, '/tmp/s/rec.cjs')), denied(inChild(conf, data)), denied(inChild(data, conf)), OK, OK], {
      fs,
      deliverViaNodeOptions: () => ++switched === 1,
    });
    expect(res.status).toBe('verified');
    expect(res.delivery).toBe('node-options');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${conf}`, `--allow-fs-read=${data}`]);
    const why = events.find((e) => e.type === 'delivery');
    expect(why).toEqual({
      type: 'delivery',
      run: 3,
      delivery: 'node-options',
      because: `a Node child was started with only --allow-fs-read=${conf} in its execArgv: its parent rebuilt its execArgv with one value per flag (a key→value map keeps only the last --allow-fs-read); it lost --allow-fs-read=${data}`,
    });
    expect(switched).toBe(1);
  });

  it('stops with child-lost-grants, naming what the child lost, when nothing else reaches it', async () => {
    const { res } = await go([denied(inChild(data, '/tmp/s/rec.cjs')), denied(inChild(conf, data)), denied(inChild(data, conf))], { fs });
    expect(res.status).toBe('child-lost-grants');
    expect(res.reason).toBe(
      `a Node child was started with only --allow-fs-read=${conf} in its execArgv: its parent rebuilt its execArgv with one value per flag (a key→value map keeps only the last --allow-fs-read); it lost --allow-fs-read=${data}`,
    );
    expect(res.runs).toBe(3);
  });

  it("switches at once when the runner saw a child without some of the run's flags", async () => {
    const lost = {
      lost: [],
      why: 'a Node child (/srv/app/worker.js) was started with no grant in its execArgv: its parent rebuilt its execArgv with one value per flag (a key→value map keeps only the last --allow-fs-read)',
    };
    const { res, requests } = await go([result({ exitCode: 1, childLost: lost }), OK, OK], { fs, deliverViaNodeOptions: () => true });
    expect(res.status).toBe('verified');
    expect(res.delivery).toBe('node-options');
    // The failed run is run again with the flags in NODE_OPTIONS before anything is concluded from it.
    expect(requests.map((r) => r.phase)).toEqual(['learn', 'learn', 'verify']);
  });
});
