// permlearn learns each fixture under real Node binaries; the learned flags are then fed back to
// real node, on a pristine copy of the fixture, which must start cleanly.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, leftoverProcesses, copyFixture, nodeBinary, removeCopies, root, runCli, runNode, type ProfileJson } from '../helpers/e2e.js';

interface Case {
  fixture: string;
  entry: string;
  majors: number[];
  /**
   * Every grant flag of the profile, in the profile's order (after the enable flag), with the default
   * --granularity (deps); `D` stands for the fixture copy's directory. Measured on the pinned binaries.
   * Node 20 checks the entry file itself, so its profiles also grant it.
   */
  flags: (major: number) => string[];
  /** The same with --granularity file (exact paths) and --strategy rerun, on Node 26, where they differ. */
  exactFlags?: string[];
  /** Scopes whose grants must carry a risk note. */
  risky?: string[];
  /** Lines also learned on their newest patch build, where it behaves differently (docs/node-versions.md). */
  latest?: number[];
  /** The flags there, where they differ. */
  latestFlags?: (major: number) => string[];
}

const tmp = os.tmpdir();
const cases: Case[] = [
  {
    fixture: 'scopes/read-config',
    entry: 'index.js',
    majors: [26, 22, 20],
    flags: (m) => ['--allow-fs-read=D/config.json', ...(m === 20 ? ['--allow-fs-read=D/index.js'] : [])],
  },
  { fixture: 'scopes/write-log', entry: 'index.js', majors: [26, 22], flags: () => ['--allow-fs-write=D/logs/*'] },
  { fixture: 'scopes/spawn-child', entry: 'index.js', majors: [26, 22], flags: () => ['--allow-child-process'], risky: ['child'] },
  {
    fixture: 'scopes/worker',
    entry: 'index.js',
    majors: [26, 22, 20],
    // Before 24 the observe run keeps the Worker's file, which it saw loaded; real Node 22 starts the
    // Worker without that grant, Node 20 needs it.
    flags: (m) => [...(m === 20 ? ['--allow-fs-read=D/index.js'] : []), ...(m <= 22 ? ['--allow-fs-read=D/worker.js'] : []), '--allow-worker'],
  },
  {
    fixture: 'scopes/addon',
    entry: 'index.js',
    majors: [26, 22, 24],
    // The pinned builds load the addon with --allow-addons alone: 22's observe run sees the addon file
    // loaded, and no longer grants its read (nor its folder) where Node does not check it.
    flags: () => ['--allow-addons'],
    risky: ['addon'],
    // The newest builds check the read of the addon file (the resolver's realpath); 24's audit mode does not
    // publish it, and it is granted with the addon from the refusal (model/addon-read.ts).
    latest: [26, 24, 22],
    latestFlags: () => ['--allow-fs-read=D/build', '--allow-addons'],
  },
  { fixture: 'scopes/wasi', entry: 'index.js', majors: [26, 22], flags: () => ['--allow-fs-read=D/module.wasm', '--allow-wasi'] },
  { fixture: 'scopes/write-tmp', entry: 'index.js', majors: [26, 22], flags: () => [`--allow-fs-write=${tmp}/permlearn-fixture-*`] },
  {
    fixture: 'deps/cjs-app',
    entry: 'index.js',
    majors: [26, 22, 20],
    // Dependencies become node_modules as a whole, the app's files their folders (the symlinked
    // package's target included, which is the app's own folder linked-src).
    flags: (m) => [
      ...(m === 20 ? ['--allow-fs-read=D/index.js'] : []),
      '--allow-fs-read=D/lib',
      '--allow-fs-read=D/linked-src',
      '--allow-fs-read=D/node_modules',
    ],
    // Exactly: the symlinked package needs both the link and its target, and the package.json files are read.
    exactFlags: [
      '--allow-fs-read=D/lib/data.json',
      '--allow-fs-read=D/lib/dir/index.js',
      '--allow-fs-read=D/lib/dir/package.json',
      '--allow-fs-read=D/lib/util.js',
      '--allow-fs-read=D/linked-src/main.js',
      '--allow-fs-read=D/node_modules/extless/index.js',
      '--allow-fs-read=D/node_modules/extless/package.json',
      '--allow-fs-read=D/node_modules/linked',
      '--allow-fs-read=D/node_modules/plain/helper.js',
      '--allow-fs-read=D/node_modules/plain/package.json',
      '--allow-fs-read=D/node_modules/plain/plain.js',
    ],
    // A symlinked package: audit mode's lstat/symlink handling differs between 24 and 26 builds.
    latest: [26, 24],
  },
  {
    fixture: 'deps/esm-app',
    entry: 'main.mjs',
    majors: [26, 24, 22, 20],
    flags: (m) => ['--allow-fs-read=D/lib', ...(m === 20 ? ['--allow-fs-read=D/main.mjs'] : []), '--allow-fs-read=D/node_modules'],
    // ESM legacy main probing: a path that never exists (extless/index) must be granted.
    exactFlags: [
      '--allow-fs-read=D/lib/x.mjs',
      '--allow-fs-read=D/node_modules/extless/index',
      '--allow-fs-read=D/node_modules/extless/index.js',
      '--allow-fs-read=D/node_modules/extless/package.json',
      '--allow-fs-read=D/node_modules/mapped/package.json',
      '--allow-fs-read=D/node_modules/mapped/src/helper.js',
      '--allow-fs-read=D/node_modules/mapped/src/index.js',
    ],
  },
  {
    fixture: 'caught/message-only',
    entry: 'index.mjs',
    majors: [26, 22, 20],
    // The app swallows the error object: 24+ publishes the check, before 24 the recorder watches fs.
    flags: (m) => [...(m === 20 ? ['--allow-fs-read=D/index.mjs'] : []), '--allow-fs-read=D/input.txt'],
  },
  {
    // Denied only a lookup of a missing file and Node's compile cache, the app failed: the lookup is what it needs.
    fixture: 'caught/exists-crash',
    entry: 'index.js',
    majors: [26, 24, 22, 20],
    flags: (m) => ['--allow-fs-read=D/.toolignore', ...(m === 20 ? ['--allow-fs-read=D/index.js'] : [])],
  },
  {
    // A connect to a Unix socket that is not there, whose error the app handles (tsx's client): on 26 a
    // network check, tried without and left out, so no --allow-net.
    fixture: 'caught/missing-socket',
    entry: 'index.js',
    majors: [26, 24, 22],
    flags: () => ['--allow-fs-read=D/config.json'],
  },
  {
    // A stat in a helper whose catch rethrows (isexe), inside its caller's empty catch (which), and a
    // forced rmSync of a cache file never written (flat-cache): neither is needed, only the config.
    fixture: 'caught/rethrow-helper',
    entry: 'index.js',
    majors: [26, 24, 22, 20],
    flags: (m) => ['--allow-fs-read=D/config.json', ...(m === 20 ? ['--allow-fs-read=D/index.js'] : []), '--allow-fs-read=D/lib'],
    exactFlags: ['--allow-fs-read=D/config.json', '--allow-fs-read=D/lib/isexe.js'],
  },
  {
    // The input read sits in a try whose catch calls fatal(), which exits (terser): a need, so the
    // first verification is the last run (runs asserted below).
    fixture: 'caught/fatal-helper',
    entry: 'index.js',
    majors: [26, 24, 22, 20],
    flags: (m) => [...(m === 20 ? ['--allow-fs-read=D/index.js'] : []), '--allow-fs-read=D/src'],
    exactFlags: ['--allow-fs-read=D/src/data.json', '--allow-fs-read=D/src/input.txt'],
  },
  {
    fixture: 'children/spawn-node',
    entry: 'index.js',
    majors: [26, 22, 20],
    // On 22+ the child runs under the app's flags (NODE_OPTIONS), so its read joins the profile; its
    // own entry file needs no grant there (Node grants a process its entry). On 20 (where a spawned
    // child is not restricted at all) the observe run keeps the child's entry and its read: real Node
    // starts without those.
    flags: (m) => [
      '--allow-fs-read=D/child-data.txt',
      ...(m === 20 ? ['--allow-fs-read=D/child.js'] : []),
      ...(m === 20 ? ['--allow-fs-read=D/index.js'] : []),
      '--allow-child-process',
    ],
    risky: ['child'],
  },
  {
    fixture: 'apps/with-secrets',
    entry: 'index.js',
    majors: [26, 22, 20],
    // config/ holds a .env the app never reads: its settings file stays exact; lib/ has no secret.
    flags: (m) => [
      '--allow-fs-read=D/config/settings.json',
      ...(m === 20 ? ['--allow-fs-read=D/index.js'] : []),
      '--allow-fs-read=D/keys/server.key',
      '--allow-fs-read=D/lib',
    ],
    exactFlags: ['--allow-fs-read=D/config/settings.json', '--allow-fs-read=D/keys/server.key', '--allow-fs-read=D/lib/greet.js'],
  },
  {
    fixture: 'quirks/sibling-prefix',
    entry: 'index.js',
    majors: [26, 22, 20],
    // `data` is denied on its own path beside the grant `data-extra.txt`: only the parent works (it
    // covers the entry on 20 too).
    flags: () => ['--allow-fs-read=D'],
  },
];

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

describe.each(cases)('$fixture', (c) => {
  // auto is the audit strategy on 24+ and observe before; the plain rerun loop stays available and is
  // checked on 26, with exact paths (the reference the other strategies and policies are measured against).
  const runs = [
    ...c.majors.map((m) => [m, 'auto', 'deps', 'pinned'] as const),
    [26, 'rerun', 'file', 'pinned'] as const,
    ...(c.latest ?? []).map((m) => [m, 'auto', 'deps', 'latest'] as const),
  ];
  it.each(runs)(
    'learns a verified profile on Node %i (strategy %s, granularity %s, %s build) that real node accepts',
    async (major, strategy, granularity, which) => {
      const dir = copyFixture(c.fixture);
      const r = await runCli(['--node', nodeBinary(major, which), '--strategy', strategy, '--granularity', granularity, '--format', 'json', c.entry], {
        cwd: dir,
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const profile = JSON.parse(String(r.stdout)) as ProfileJson;
      expect(profile.verified).toBe(true);
      expect(profile.strategy).toBe(strategy === 'rerun' ? 'rerun' : major >= 24 ? 'audit' : 'observe');
      expect(profile.node).toMatch(new RegExp(`^v${major}\\.`));
      const grants = granularity === 'file' ? (c.exactFlags ?? c.flags(major)) : which === 'latest' ? (c.latestFlags ?? c.flags)(major) : c.flags(major);
      const expected = [major === 20 ? '--experimental-permission' : '--permission', ...grants.map((f) => f.replace(/=D(?=\/|$)/, `=${dir}`))];
      expect(profile.flags).toEqual(expected);
      // Never broader than the evidence: no bare wildcard, no root, nothing outside the fixture but tmp.
      for (const g of profile.grants.filter((x) => x.path !== undefined)) {
        expect(g.path === dir || g.path!.startsWith(`${dir}/`) || g.path!.startsWith(`${tmp}/`), g.flag).toBe(true);
        expect(g.denials.length).toBeGreaterThan(0);
      }
      expect(new Set(profile.flags).size).toBe(profile.flags.length);
      for (const scope of c.risky ?? []) expect(profile.grants.find((g) => g.scope === scope)?.risk).toBeTruthy();

      // Independently: a pristine copy at the same path, real node, exactly the printed flags.
      rmSync(dir, { recursive: true, force: true });
      cpSync(path.join(root, 'fixtures', c.fixture), dir, { recursive: true, verbatimSymlinks: true });
      const run = await runNode(major, profile.flags, c.entry, [], dir, {}, which);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toMatch(/^ok:/m);
      // And the same app without those flags is denied, so the flags are what made it pass.
      const bare = await runNode(major, [profile.flags[0]!], c.entry, [], dir, {}, which);
      expect(bare.exitCode).not.toBe(0);
    },
  );
});

// `permlearn run -- node <entry>` starts the same process as `permlearn <entry>`: its first Node
// process reads its own entry under Node's grant (22+), so the two learn the same flags.
describe.each(cases.filter((c) => ['scopes/read-config', 'deps/cjs-app', 'children/spawn-node'].includes(c.fixture)))('$fixture as a command', (c) => {
  it.each(c.majors.filter((m) => m !== 26))('learns the same flags on Node %i under permlearn run', async (major) => {
    const dir = copyFixture(c.fixture);
    const node = nodeBinary(major);
    const r = await runCli(['--node', node, '--format', 'json', 'run', '--', node, c.entry], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(true);
    const expected = [major === 20 ? '--experimental-permission' : '--permission', ...c.flags(major).map((f) => f.replace(/=D(?=\/|$)/, `=${dir}`))];
    expect(profile.flags).toEqual(expected);
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'fixtures', c.fixture), dir, { recursive: true, verbatimSymlinks: true });
    const run = await runNode(major, profile.flags, c.entry, [], dir, {}, 'pinned');
    expect(run.exitCode, String(run.stderr)).toBe(0);
  });
});

// Node grants a process started without an entry file its whole cwd (`node --test` naming no test
// files): the profile needs nothing for what the tests read, and says why, so nobody reads it as least
// privilege. Naming the file instead (`node test/data.test.js`) learns the read and no warning.
describe('quirks/entryless-test', () => {
  it.each([26, 24])('Node %i: node --test with no files names the working folder Node opens, and a file named does not', async (major) => {
    const dir = copyFixture('quirks/entryless-test');
    const node = nodeBinary(major);
    const r = await runCli(['--node', node, '--format', 'json', 'run', '--', node, '--test', '--test-isolation=none'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(true);
    expect(profile.flags).toEqual(['--permission']);
    expect(profile.warnings.filter((w) => w.includes(`read everything under ${dir}, its working folder`))).toHaveLength(1);
    expect(String(r.stderr)).toContain(`warning: Node lets a process of this app read everything under ${dir}`);
    // The warning is true: with those flags the runner's process reads a file nobody granted.
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'fixtures', 'quirks/entryless-test'), dir, { recursive: true });
    const run = await runNode(major, profile.flags, '--test', ['--test-isolation=none'], dir);
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toMatch(/ok: read 2 users/);
    const named = await runCli(['--node', node, '--format', 'json', 'run', '--', node, 'test/data.test.js'], { cwd: dir });
    expect(named.exitCode, String(named.stderr)).toBe(0);
    const own = JSON.parse(String(named.stdout)) as ProfileJson;
    expect(own.flags).toEqual(['--permission', `--allow-fs-read=${dir}/data.json`]);
    expect(own.warnings.some((w) => w.includes('its working folder'))).toBe(false);
  });
});

// A folder named with a new id each run (vitest's shape): two runs show it, and only the folder that
// holds the ids covers the next one. The temporary directory itself is refused (exit 8) with that reason;
// a TMPDIR inside the project is granted as a project folder and verifies.
describe('quirks/named-each-run', () => {
  it.each([26, 22])('Node %i: refused in the shared temporary directory after two runs, verified with a TMPDIR of its own', async (major) => {
    const dir = copyFixture('quirks/named-each-run');
    const node = nodeBinary(major);
    const shared = mkdtempSync(path.join(tmp, 'pl-named-'));
    try {
      const r = await runCli(['--node', node, '--format', 'json', 'index.js'], { cwd: dir, env: { ...baseEnv, TMPDIR: shared } });
      expect(r.exitCode, String(r.stderr)).toBe(8);
      expect(String(r.stderr)).toMatch(new RegExp(`names a folder in ${shared} anew each run`));
      // The first run, its confirmation, and the one that met the second name.
      expect(String(r.stderr)).toMatch(/the app ran for real 3 times/);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
    const own = path.join(dir, '.tmp');
    mkdirSync(own);
    const env = { ...baseEnv, TMPDIR: own };
    const r = await runCli(['--node', node, '--format', 'json', 'index.js'], { cwd: dir, env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(true);
    // 22's rmSync is JavaScript that lists the folder first; 24+ remove it in C++, checked as a write.
    expect(profile.flags).toEqual(['--permission', ...(major === 22 ? [`--allow-fs-read=${own}`] : []), `--allow-fs-write=${own}`]);
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'fixtures', 'quirks/named-each-run'), dir, { recursive: true });
    mkdirSync(own);
    const run = await runNode(major, profile.flags, 'index.js', [], dir, { env });
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toMatch(/^ok: used /m);
  });
});

// A grant below os.tmpdir() holds only where the app runs with the same TMPDIR: the profile says so.
describe('scopes/write-tmp', () => {
  it.each([26, 22])('Node %i: a grant below the temporary directory comes with a warning naming it', async (major) => {
    const dir = copyFixture('scopes/write-tmp');
    const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.flags).toEqual(['--permission', `--allow-fs-write=${tmp}/permlearn-fixture-*`]);
    expect(profile.warnings.filter((w) => w.includes('the temporary directory as it was while learning'))).toEqual([
      `a grant names the temporary directory as it was while learning (--allow-fs-write=${tmp}/permlearn-fixture-*): the app must run with TMPDIR=${tmp} for it to hold (learn again under the TMPDIR it runs with)`,
    ]);
    // A fixture that uses no temporary folder has none.
    const other = copyFixture('scopes/read-config');
    const plain = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: other });
    expect((JSON.parse(String(plain.stdout)) as ProfileJson).warnings.some((w) => w.includes('temporary directory'))).toBe(false);
  });
});

// A need behind a catch that exits through a helper costs no failed verification: two runs.
describe('caught/fatal-helper', () => {
  it.each([26, 24, 22])('Node %i: verified in two runs', async (major) => {
    const dir = copyFixture('caught/fatal-helper');
    const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect((JSON.parse(String(r.stdout)) as ProfileJson).runs).toBe(2);
  });
});

// Node 22's test runner starts its files with a spawn it took before any preload ran: the observe run
// does not see that start, nor can the files' recorders report, and a denial shows only in the runner's
// TAP output. The failure says where it is.
describe('quirks/entryless-test on 22', () => {
  it('Node 22: node --test fails naming the denial text on stdout, which is never evidence', async () => {
    const dir = copyFixture('quirks/entryless-test');
    const node = nodeBinary(22);
    const r = await runCli(['--node', node, 'run', '--', node, '--test'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(String(r.stderr)).toContain("its stdout shows denial text, where Node's test runner prints a failure, its own or a test file's");
    expect(String(r.stderr)).not.toMatch(/--allow-fs-read=/);
  });
});

// Node 24 and 26's test runner cannot start test files in processes of their own under the permission
// model (an empty --allow-fs-read= for each): the failure says so, instead of "exited with code 1".
describe('quirks/entryless-test, isolated', () => {
  it.each([26, 24])('Node %i: node --test is an app failure that names the runner bug and the way round it', async (major) => {
    const dir = copyFixture('quirks/entryless-test');
    const node = nodeBinary(major);
    const r = await runCli(['--node', node, 'run', '--', node, '--test'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(String(r.stderr)).toContain(
      "without a permission denial: Node's test runner started its test files with an empty --allow-fs-read=, which Node refuses (a bug of the runner under the permission model, whatever the grants); `node --test --test-isolation=none` runs them in its own process instead",
    );
  });
});
