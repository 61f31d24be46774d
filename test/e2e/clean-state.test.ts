// Learning leaves the machine as it found it, and what it calls verified works on a clean machine:
// each fixture is learned under Node 22, 24 and 26, with permlearn started by plain node and through
// pnpm's bin shim (which puts permlearn's own store on NODE_PATH and npm's variables in the
// environment); the project copy, the $TMPDIR and the HOME given to the app must be byte-for-byte as
// before; then a pristine copy with a fresh $TMPDIR and HOME, real node, exactly the printed flags and
// no NODE_PATH must run as the fixture expects.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { cliPath, nodeBinary, processesMentioning, root, type ProfileJson } from '../helpers/e2e.js';
import { treeState } from '../helpers/tree-hash.js';

interface Case {
  fixture: string;
  entry: string;
  /** The exact flags; D is the fixture copy, T the $TMPDIR, H the HOME. */
  flags: string[];
  /** What the app prints on a clean machine, run after run (each run sees what the last one left). */
  prints: string[];
}

const cases: Case[] = [
  {
    fixture: 'tmp-ipc',
    entry: 'tool.js',
    flags: ['--permission', '--allow-fs-read=T/clean-state-ipc/*', '--allow-fs-write=H/.clean-state-ipc/*', '--allow-fs-write=T/clean-state-ipc/*'],
    prints: ['ok: tmp-ipc', 'ok: tmp-ipc'],
  },
  {
    fixture: 'rotating-log',
    entry: 'app.js',
    flags: ['--permission', '--allow-fs-read=D/logs/*', '--allow-fs-write=D/logs/*'],
    // The second run must find the rotation state the first one wrote.
    prints: ['rotation state: fresh', 'rotation state: loaded'],
  },
  { fixture: 'optional-require', entry: 'app.js', flags: ['--permission'], prints: ['optional modules: none'] },
  {
    fixture: 'proc-self',
    entry: 'app.js',
    flags: ['--permission', '--allow-fs-read=/proc/self/status'],
    prints: ['rss known, ticks unknown, case-sensitive true'],
  },
  { fixture: 'compile-cache', entry: 'app.js', flags: ['--permission', '--allow-fs-read=D/lib.js'], prints: ['compile cache off'] },
];

const base = mkdtempSync(path.join(os.tmpdir(), 'pl-clean-'));
let n = 0;

// The tests run side by side, so the check that nothing is left running comes once, at the end.
afterAll(async () => {
  let left = processesMentioning(base);
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = processesMentioning(base);
  }
  rmSync(base, { recursive: true, force: true });
  expect(left).toEqual([]);
});

/** A fresh place for one learn: the fixture copy, its own $TMPDIR and HOME. */
function machine(fixture: string) {
  const top = path.join(base, String(n++));
  const dir = path.join(top, 'project', fixture);
  const tmp = path.join(top, 'tmp');
  const home = path.join(top, 'home');
  cpSync(path.join(root, 'fixtures', 'clean-state', fixture), dir, { recursive: true });
  mkdirSync(tmp);
  mkdirSync(home);
  return { dir, tmp, home, xdg: path.join(top, 'xdg') };
}

type Launcher = 'node' | 'pnpm shim' | 'pnpm exec';

function learn(launcher: Launcher, major: number, m: ReturnType<typeof machine>, entry: string) {
  const args = ['--node', nodeBinary(major), '--cwd', m.dir, '--format', 'json', path.join(m.dir, entry)];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: m.home, TMPDIR: m.tmp, NO_COLOR: '1' };
  const options = { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 110_000 } as const;
  if (launcher === 'node') return execa(process.execPath, [cliPath, ...args], { cwd: m.dir, ...options });
  // The bin shim pnpm installed, which `pnpm exec permlearn` runs: it puts permlearn's store on NODE_PATH.
  if (launcher === 'pnpm shim') return execa(path.join(root, 'node_modules', '.bin', 'permlearn'), args, { cwd: m.dir, ...options });
  // pnpm and npx keep their caches in the real home; the app's HOME stays the fresh one they pass on.
  Object.assign(env, {
    npm_config_cache: path.join(os.homedir(), '.npm'),
    XDG_CACHE_HOME: path.join(m.xdg, 'cache'),
    XDG_DATA_HOME: path.join(m.xdg, 'data'),
    XDG_STATE_HOME: path.join(m.xdg, 'state'),
    XDG_CONFIG_HOME: path.join(m.xdg, 'config'),
  });
  return execa('npx', ['--yes', 'pnpm@10.34.9', 'exec', 'permlearn', ...args], { cwd: root, ...options });
}

describe.each(cases)('clean-state/$fixture', (c) => {
  // Every fixture by plain node and by pnpm's shim on each line; the whole `npx pnpm exec` (which also
  // sets npm's variables, and takes seconds to start) for the fixture its environment affects most.
  const launchers: [number, Launcher][] = [22, 24, 26].flatMap((major) => [
    [major, 'node'],
    [major, 'pnpm shim'],
    ...(c.fixture === 'optional-require' ? [[major, 'pnpm exec'] as [number, Launcher]] : []),
  ]);
  it.concurrent.each(launchers)('Node %i, started by %s: exact flags, the machine left as it was, and they work on a clean one', async (major, launcher) => {
    const m = machine(c.fixture);
    const before = { project: treeState(m.dir), tmp: treeState(m.tmp), home: treeState(m.home) };
    const r = await learn(launcher, major, m, c.entry);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(true);
    expect(profile.flags).toEqual(
      c.flags.map((f) =>
        f
          .replace(/=D(?=\/|$)/, `=${m.dir}`)
          .replace(/=T(?=\/|$)/, `=${m.tmp}`)
          .replace(/=H(?=\/|$)/, `=${m.home}`),
      ),
    );
    // Nothing of permlearn's own installation, whatever put it on the app's way.
    for (const g of profile.grants) expect(g.path?.startsWith(root) ?? false, g.flag).toBe(false);
    expect(profile.machine?.runs).toBe(profile.runs);
    expect(profile.machine?.restored).toBe(true);
    expect({ project: treeState(m.dir), tmp: treeState(m.tmp), home: treeState(m.home) }).toEqual(before);

    // A clean machine: a pristine copy at the same path, an empty $TMPDIR and HOME, no NODE_PATH.
    for (const d of [path.dirname(m.dir), m.tmp, m.home]) rmSync(d, { recursive: true, force: true });
    cpSync(path.join(root, 'fixtures', 'clean-state', c.fixture), m.dir, { recursive: true });
    mkdirSync(m.tmp);
    mkdirSync(m.home);
    for (const expected of c.prints) {
      const run = await execa(nodeBinary(major), [...profile.flags, c.entry], {
        cwd: m.dir,
        env: { PATH: process.env.PATH ?? '', HOME: m.home, TMPDIR: m.tmp },
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: 30_000,
      });
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout).trim()).toBe(expected);
    }
  });
});
