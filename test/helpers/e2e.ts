// Helpers for end-to-end tests: fixture copies, the built CLI, real Node binaries, and a check that
// no process a test started is still running afterwards.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';
import { nodeBinary } from '@permlearn/test-nodes';
import type { Profile } from '../../packages/core/src/model/profile.js';
export type { MergedProfile } from '../../packages/core/src/model/merge.js';
export type { RenderedProfile } from '../../packages/core/src/model/render.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(root, 'packages', 'cli', 'bin', 'permlearn.js');
export { nodeBinary };

/** The pinned builds of 26, 24 and 22, then the newest patch release of each (test-nodes). */
export const PINNED_AND_LATEST = [
  [26, 'pinned'],
  [24, 'pinned'],
  [22, 'pinned'],
  [26, 'latest'],
  [24, 'latest'],
  [22, 'latest'],
] as const;

const copies: string[] = [];

/** Copy `fixtures/<name>` to a fresh temp dir (symlinks kept as they are) and return its path. */
export function copyFixture(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pl-e2e-'));
  const dest = path.join(dir, path.basename(name));
  cpSync(path.join(root, 'fixtures', name), dest, { recursive: true, verbatimSymlinks: true });
  copies.push(dir);
  return dest;
}

/**
 * Put a copy of the folder `from` at `dest`, a path copyFixture returned earlier (removeCopies may have
 * removed it since), tracked like copyFixture's copies: for tests that share one learned copy, whose
 * profile names the paths of the copy it was learned in.
 */
export function copyFolderTo(from: string, dest: string): string {
  rmSync(path.dirname(dest), { recursive: true, force: true });
  mkdirSync(path.dirname(dest), { recursive: true });
  cpSync(from, dest, { recursive: true, verbatimSymlinks: true });
  copies.push(path.dirname(dest));
  return dest;
}

/**
 * A copy made once per test file and handed out again as it was then, at the same path (a learned
 * profile names the paths of the copy it was learned in): for tests that each need the same learned
 * copy, so that it is learned once. `make` makes it in a copyFixture copy and returns that copy.
 */
export function sharedCopy(make: () => Promise<string>): { get(): Promise<string>; dispose(): void } {
  let made: { dir: string; kept: string } | undefined;
  return {
    async get() {
      if (made) return copyFolderTo(made.kept, made.dir);
      const dir = await make();
      const kept = path.join(mkdtempSync(path.join(os.tmpdir(), 'pl-e2e-kept-')), path.basename(dir));
      cpSync(dir, kept, { recursive: true, verbatimSymlinks: true });
      made = { dir, kept };
      return dir;
    },
    dispose() {
      if (made) rmSync(path.dirname(made.kept), { recursive: true, force: true });
      made = undefined;
    },
  };
}

/**
 * Processes still running from any fixture copy this test file made (should be none). A process that
 * was just sent SIGKILL can take a moment to leave /proc, so this waits up to two seconds.
 */
export async function leftoverProcesses(): Promise<string[]> {
  let found = copies.flatMap((dir) => processesMentioning(dir));
  for (let i = 0; i < 40 && found.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    found = copies.flatMap((dir) => processesMentioning(dir));
  }
  return found;
}

export function removeCopies(): void {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.homedir(), NO_COLOR: '1' };

/** Run the built permlearn CLI; never rejects. */
export function runCli(args: string[], options: Options = {}) {
  return execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: baseEnv,
    extendEnv: false,
    stdin: 'ignore',
    timeout: 110_000,
    ...options,
  });
}

/** Run an app under a real Node binary with the given flags; never rejects. */
export function runNode(
  major: number,
  flags: string[],
  entry: string,
  args: string[],
  cwd: string,
  options: Options = {},
  which: 'pinned' | 'latest' = 'pinned',
) {
  return execa(nodeBinary(major, which), [...flags, entry, ...args], {
    cwd,
    reject: false,
    env: baseEnv,
    extendEnv: false,
    stdin: 'ignore',
    timeout: 30_000,
    ...options,
  });
}

/** A fresh HOME and TMPDIR for one run, as a clean machine has them; `done` removes both. */
export function freshHomeAndTmp(prefix: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), `${prefix}-home-`));
  const tmp = mkdtempSync(path.join(os.tmpdir(), `${prefix}-tmp-`));
  return { env: { ...baseEnv, HOME: home, TMPDIR: tmp }, done: () => [home, tmp].forEach((d) => rmSync(d, { recursive: true, force: true })) };
}

/**
 * A profile checked the way a user would: the app run from a pristine copy of the fixture at `dir` (the
 * path the profile names) with exactly `flags` under a fresh HOME and TMPDIR; then each grant dropped in
 * turn the same way. Returns the full run and the grants whose removal still let the app exit 0.
 */
export async function runPristine(fixture: string, dir: string, major: number, build: 'pinned' | 'latest', flags: string[], entry: string) {
  const run = async (f: string[]) => {
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'fixtures', fixture), dir, { recursive: true });
    const e = freshHomeAndTmp('pristine');
    const out = await runNode(major, f, entry, [], dir, { env: e.env }, build);
    e.done();
    return out;
  };
  const full = await run(flags);
  const removable: string[] = [];
  for (const flag of flags.slice(1)) if ((await run(flags.filter((f) => f !== flag))).exitCode === 0) removable.push(flag);
  return { full, removable };
}

/** Processes whose command line or cwd mentions `needle` (Linux /proc). */
export function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(`${pid} ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

/** Session folders (in the tmpdir) owned by the permlearn process `pid`. */
export function sessionsOf(pid: number | undefined, tmp = os.tmpdir()): string[] {
  return readdirSync(tmp)
    .filter((n) => /^permlearn-[A-Za-z0-9]{6}$/.test(n))
    .filter((n) => {
      // The recorder names its permlearn too (older sessions have no owner file).
      const read = (f: string) => (existsSync(path.join(tmp, n, f)) ? readFileSync(path.join(tmp, n, f), 'utf8') : '');
      return read('recorder.cjs').includes(`"ownerPid":${pid}`) || read('owner.json') === JSON.stringify({ pid });
    });
}

/** A profile file as the CLI writes it: core's own Profile type, so a test cannot drift from it. */
export type ProfileJson = Profile;

/**
 * Start a server under real Node with the given flags, wait for a stdout line containing `ready`, run
 * `use`, then kill it. Rejects if the server exits first.
 */
export async function withServer<T>(
  major: number,
  flags: string[],
  entry: string,
  args: string[],
  cwd: string,
  ready: string,
  use: () => Promise<T>,
  options: Options = {},
): Promise<T> {
  const app = runNode(major, flags, entry, args, cwd, { timeout: 20_000, ...options });
  try {
    await new Promise<void>((resolve, reject) => {
      app.stdout!.on('data', (d: Buffer) => (String(d).includes(ready) ? resolve() : undefined));
      app.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before printing '${ready}'`)));
    });
    return await use();
  } finally {
    app.kill('SIGKILL');
    await app;
  }
}
