// Planning at scale, locked down: a generated 10,000-path app (dependencies, the app's own files,
// folders read as folders, missing lookups, folders the app creates, mkdtemp templates, writes, the
// radix-tree quirk, grants the breadth rule refuses, capabilities) learned four ways, and a long run
// of GrantSet additions. What each gives (grants in order with their evidence and notes, observed,
// refused, set aside, the events) is hashed, and the hashes were recorded before the grant indexes
// were rewritten for speed: a change to any grant, its order or its reasons changes a hash.
// If a change to planning is meant to change plans, say so in the commit and record the new hashes.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Denial, FsProbe, PermissionName } from './types.js';
import { GrantSet, normaliseGrants, type Grant } from './grants.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import { learn, learnStrategy, type LearnEvent, type LearnOptions, type RunResult } from './learn/index.js';

/** mulberry32: seeded, so the app is the same every time. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}

const APP = '/srv/app';
const HOME = '/home/u';
const caps = capabilitiesOf(parseNodeVersion('v26.10.0')!);

interface App {
  denials: Denial[];
  fs: FsProbe;
  /** A folder granted as a folder whose sibling's name starts with its own (Node's radix-tree quirk). */
  quirkDir: string;
}

/** About 10,000 denials of an app with a realistic spread of paths, from one seed. */
function generateApp(seed: number): App {
  const r = rng(seed);
  const files = new Set<string>();
  const dirs = new Set<string>([APP, `${APP}/node_modules`, `${APP}/src`, `${APP}/data`, `${APP}/lib`, `${APP}/lib/a`, HOME, '/tmp', '/etc']);
  const denials: Denial[] = [];
  const deny = (permission: PermissionName, resource: string, extra: Partial<Denial> = {}): void => {
    denials.push({
      permission,
      resource,
      code: 'ERR_ACCESS_DENIED',
      source: 'channel',
      cwd: APP,
      thread: 'main',
      site: `${APP}/src/s${r.int(40)}.js:${1 + r.int(200)}:${1 + r.int(30)}`,
      ...extra,
    });
  };
  const addDir = (p: string) => {
    for (let d = p; d !== '/' && !dirs.has(d); d = d.slice(0, d.lastIndexOf('/')) || '/') dirs.add(d);
  };
  for (let i = 0; i < 9000; i++) {
    const x = r.next();
    if (x < 0.55) {
      const f = `${APP}/node_modules/${r.next() < 0.2 ? '@s/' : ''}p${r.int(150)}/${r.pick(['lib', 'dist', 'src'])}/d${r.int(6)}/f${r.int(400)}.js`;
      files.add(f);
      addDir(f.slice(0, f.lastIndexOf('/')));
      deny('FileSystemRead', r.next() < 0.1 ? f.slice(APP.length + 1) : f);
    } else if (x < 0.7) {
      const f = `${APP}/src/m${r.int(30)}/c${r.int(200)}.${r.pick(['js', 'json', 'mjs'])}`;
      files.add(f);
      addDir(f.slice(0, f.lastIndexOf('/')));
      deny('FileSystemRead', f);
    } else if (x < 0.78) {
      const d = `${APP}/node_modules/p${r.int(150)}/${r.pick(['lib', 'dist'])}`;
      addDir(d);
      deny('FileSystemRead', r.next() < 0.3 ? `${d}/` : d);
    } else if (x < 0.86) {
      // A config search: lookups of paths that do not exist.
      deny('FileSystemRead', `${APP}/${'../'.repeat(r.int(2))}node_modules/@types/t${r.int(300)}/package.json`, {
        source: r.next() < 0.5 ? 'caught' : 'channel',
      });
    } else if (x < 0.9) {
      // A folder the app creates: missing when checked, a folder by the end.
      const d = `${APP}/data/new${r.int(60)}`;
      dirs.add(d);
      deny(r.next() < 0.5 ? 'FileSystemRead' : 'FileSystemWrite', d, { existed: false });
    } else if (x < 0.96) {
      const f = `${APP}/data/w${r.int(80)}/out${r.int(50)}.log`;
      addDir(f.slice(0, f.lastIndexOf('/')));
      deny('FileSystemWrite', f);
    } else if (x < 0.975) {
      deny('FileSystemWrite', `/tmp/app-${r.int(4)}-XXXXXX`);
      deny('FileSystemRead', `/tmp/app-${r.int(4)}-${r.int(1000)}/part${r.int(9)}`);
    } else if (x < 0.985) {
      // Too broad to grant: the home folder, a top-level folder, `/`.
      deny('FileSystemRead', r.pick([HOME, '/etc', '/', `${HOME}/.config`]));
    } else if (x < 0.99) {
      deny('FileSystemRead', `${APP}/lib/${r.pick(['a', 'ab', 'a-b', 'a.js'])}`);
      files.add(`${APP}/lib/ab`);
    } else {
      deny(r.pick(['ChildProcess', 'WorkerThreads', 'Net', 'Inspector']), '', { source: 'channel' });
    }
  }
  const fs: FsProbe = { homedir: HOME, kind: (p) => (files.has(p) ? 'file' : dirs.has(p) ? 'dir' : 'missing') };
  return { denials, fs, quirkDir: `${APP}/lib/a` };
}

const run = (denials: Denial[] = [], outcome: Partial<RunResult> = {}): RunResult => ({
  outcome: 'exited',
  exitCode: 0,
  denials,
  recorderLoaded: true,
  stderrDenials: [],
  stderrTail: '',
  durationMs: 1,
  ...outcome,
});

/** A learn's whole answer, and what it announced on the way, as one digest. */
async function planDigest(app: App, opts: Partial<LearnOptions>, runs: (phase: string, n: number) => RunResult): Promise<{ digest: string; grants: Grant[] }> {
  const events: LearnEvent[] = [];
  const res = await learn({ runApp: async (req) => runs(req.phase, req.run), caps, fs: app.fs, maxRuns: 8, onEvent: (e) => events.push(e), ...opts });
  const { last: _last, ...rest } = res;
  const seen = events.map((e) => ('result' in e ? { ...e, result: e.result.denials.length } : e));
  return { digest: createHash('sha256').update(JSON.stringify({ rest, seen })).digest('hex'), grants: res.grants };
}

const initialGrants = (): Grant[] => [
  { scope: 'fs.read', path: `${APP}/node_modules/p7`, kind: 'dir', denials: [], notes: [] },
  { scope: 'fs.read', path: `${APP}/node_modules/p70/lib/d1/f3.js`, kind: 'file', denials: [], notes: [] },
];

describe('plans of a generated 10,000-path app, as recorded before the indexes were rewritten', () => {
  const app = generateApp(14);
  const generalise = (granularity: 'file' | 'dir' | 'deps') => ({ generalise: { granularity, root: APP, tmpdir: '/tmp' } });

  it('audit, file granularity, from initial grants', async () => {
    const { digest, grants } = await planDigest(app, { strategy: learnStrategy('audit'), initialGrants: initialGrants(), ...generalise('file') }, (phase) =>
      phase === 'audit' ? run(app.denials) : run(),
    );
    expect(grants.length).toBeGreaterThan(3000);
    expect(digest).toBe('132f8c2ccf6da1bdb72f566820d53c458ed021c9b407d6dbc733d4f5f22cbbe2');
  }, 60_000);

  it('audit, deps granularity, tight', async () => {
    const { digest } = await planDigest(app, { strategy: learnStrategy('audit'), tighten: true, ...generalise('deps') }, (phase) =>
      phase === 'audit' ? run(app.denials) : run(),
    );
    expect(digest).toBe('720209fe3d741a8ab537fc070b3bc27686429edb7177e2c3393ff25b6e49e090');
  }, 60_000);

  it('enforce: all caught in a clean run, then the radix-tree quirk on a folder, file granularity', async () => {
    const caught = app.denials.map((d) => ({ ...d, source: 'caught' as const }));
    const quirk: Denial = {
      permission: 'FileSystemRead',
      resource: app.quirkDir,
      code: 'ERR_ACCESS_DENIED',
      source: 'uncaught',
      cwd: APP,
      site: `${APP}/x.js:1:1`,
    };
    const { digest } = await planDigest(app, { ...generalise('file') }, (_phase, n) =>
      n === 1 ? run(caught) : n === 2 ? run([quirk], { exitCode: 1 }) : run(),
    );
    expect(digest).toBe('faf2695b05faf8f27fbe13131d3671009deb7996cc3fd4ad2dded4eb2ec66925');
  }, 60_000);

  it('enforce: all caught in a clean run, dir granularity', async () => {
    const caught = app.denials.map((d) => ({ ...d, source: 'caught' as const }));
    const { digest } = await planDigest(app, { ...generalise('dir') }, (_phase, n) => (n === 1 ? run(caught) : run()));
    expect(digest).toBe('14f2ba9166191a40f23d093bd26b5627344cf4903d7c8c4c275d7b50e6a6bfc1');
  }, 60_000);

  it('enforce with grantCaught off, file granularity', async () => {
    const caught = app.denials.map((d) => ({ ...d, source: 'caught' as const }));
    const { digest } = await planDigest(app, { grantCaught: false, ...generalise('file') }, (_phase, n) => (n === 1 ? run(caught) : run()));
    expect(digest).toBe('345855ea4bdbe65e593babfd56c0b03df19c8a4ca089b6e8c88f2117e6a4664a');
  }, 60_000);
});

describe('GrantSet at scale, as recorded before the indexes were rewritten', () => {
  it('10,000 additions and replacements: the same set, order and evidence as normaliseGrants', () => {
    const r = rng(99);
    const segs = ['x', 'a', 'ab', 'a-b', 'a.js', 'd', 'dq', 'app-', 'app-1', 'n'];
    const kinds = ['file', 'dir', 'missing', 'created-dir', 'prefix', 'file', 'file'] as const;
    const grantAt = (i: number): Grant => {
      let p = '/srv';
      for (let k = 0, depth = 1 + r.int(5); k < depth; k++) p += `/${segs[r.int(segs.length)]}${r.int(8)}`;
      if (r.next() < 0.05) p += '/';
      const scope = r.next() < 0.8 ? 'fs.read' : 'fs.write';
      return {
        scope,
        path: p,
        kind: kinds[r.int(kinds.length)]!,
        denials: [{ permission: 'FileSystemRead', resource: `e${i}`, code: 'ERR_ACCESS_DENIED', source: 'uncaught' }],
        notes: [],
      };
    };
    const set = new GrantSet();
    const all: Grant[] = [];
    for (let i = 0; i < 10_000; i++) {
      const g = grantAt(i);
      all.push(g);
      const live = set.size > 0 && r.next() < 0.02 ? set.toArray() : undefined;
      if (live) set.replace(live[r.int(live.length)]!, g);
      else set.add(g);
    }
    const digest = createHash('sha256').update(JSON.stringify(set.toArray())).digest('hex');
    expect(digest).toBe('4fa1308e9d5fcda48d8ff710081b1c2e6aa2ae658bf9093997a0c635c3ac3325');
    expect(
      createHash('sha256')
        .update(JSON.stringify(normaliseGrants(all)))
        .digest('hex'),
    ).toBe('f81ef0fc5d03f30e6510e26a387ebf801401c3ad87d98580655d29128551ab2f');
  }, 60_000);
});
