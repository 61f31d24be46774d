// `permlearn render` and the learn command's output formats: every format is fed back to real Node
// (a flags line through a shell, one flag per argv entry, NODE_OPTIONS, a config file, an npm start
// script) and the app must start; --relative output must work after the app moved to another folder.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, runNode, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
});
afterAll(() => {
  removeCopies();
});

const OK = 'ok: write-log';

/** Learn `dir` (a copy of fixtures/scopes/write-log) under `major` and save the profile as JSON. */
async function learn(dir: string, major: number): Promise<string> {
  const out = path.join(path.dirname(dir), `profile-${major}.json`);
  const r = await runCli(['--node', nodeBinary(major), '--format', 'json', '--out', out, 'index.js'], { cwd: dir });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
  return out;
}

async function render(profile: string, ...args: string[]): Promise<string> {
  const r = await runCli(['render', profile, '-q', ...args]);
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return String(r.stdout);
}

/** A shell (sh -c), with `node` on PATH being the given major. */
function sh(script: string, cwd: string, major: number, options: Options = {}) {
  return execa('sh', ['-c', script], {
    cwd,
    reject: false,
    env: { ...baseEnv, PATH: `${path.dirname(nodeBinary(major))}:${baseEnv.PATH}` },
    extendEnv: false,
    stdin: 'ignore',
    timeout: 60_000,
    ...options,
  });
}

/** The app started and did its work: printed its line and wrote its log in `dir`. */
function expectStarted(r: { exitCode?: number; stdout: unknown; stderr: unknown }, dir: string): void {
  expect(r.exitCode, String(r.stderr)).toBe(0);
  expect(String(r.stdout)).toContain(OK);
  expect(existsSync(path.join(dir, 'logs', 'app.log'))).toBe(true);
  rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
}

describe('a profile learned under Node 26, rendered and run', () => {
  let dir: string;
  let profile: string;

  beforeAll(async () => {
    dir = copyFixture('scopes/write-log');
    profile = await learn(dir, 26);
  });

  it('without its grants the app does not start (the control for every case below)', async () => {
    const r = await runNode(26, ['--permission'], 'index.js', [], dir);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toMatch(/ERR_ACCESS_DENIED/);
  });

  it('flags: one shell-quoted line, pasted into a shell', async () => {
    const line = await render(profile, '--format', 'flags');
    expect(line).toBe(`--permission '--allow-fs-write=${dir}/logs/*'`);
    writeFileSync(path.join(path.dirname(dir), 'flags.txt'), `${line}\n`);
    expectStarted(await sh(`node ${line} index.js`, dir, 26), dir);
    // the same through command substitution, which needs eval for the quotes
    expectStarted(await sh('eval "node $(cat ../flags.txt) index.js"', dir, 26), dir);
  });

  it('args: one flag per line, as argv', async () => {
    const lines = (await render(profile, '--format', 'args')).split('\n').filter(Boolean);
    expect(lines).toEqual(['--permission', `--allow-fs-write=${dir}/logs/*`]);
    expectStarted(await runNode(26, lines, 'index.js', [], dir), dir);
  });

  it('node-options: a NODE_OPTIONS value for a plain `node index.js`', async () => {
    const value = (await render(profile, '--format', 'node-options')).trimEnd();
    expectStarted(await runNode(26, [], 'index.js', [], dir, { env: { ...baseEnv, NODE_OPTIONS: value } }), dir);
  });

  it('config: a node.config.json that Node 26 enforces by itself', async () => {
    const config = path.join(dir, 'node.config.json');
    const r = await runCli(['render', profile, '--format', 'config', '--out', config]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toContain(`note: run it from ${dir} as: node --experimental-config-file=node.config.json index.js`);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toMatchObject({ permission: { permission: true, 'allow-fs-write': [`${dir}/logs/*`] } });
    expectStarted(await runNode(26, ['--experimental-config-file=node.config.json'], 'index.js', [], dir), dir);
    // it does enforce: with the grant removed the app is denied
    writeFileSync(config, JSON.stringify({ permission: { permission: true } }));
    const denied = await runNode(26, ['--experimental-config-file=node.config.json'], 'index.js', [], dir);
    expect(denied.exitCode).not.toBe(0);
    expect(String(denied.stderr)).toMatch(/ERR_ACCESS_DENIED/);
    rmSync(config);
  });

  it.each([
    ['24', /does not turn the model on/],
    ['22', /silently ignores/],
    ['20', /no config file/],
  ])('config for Node %s is refused: exit 2, one line', async (v, message) => {
    const r = await runCli(['render', profile, '--format', 'config', '--node-version', v]);
    expect(r.exitCode).toBe(2);
    expect(String(r.stdout)).toBe('');
    expect(String(r.stderr).trim().split('\n')).toHaveLength(1);
    expect(String(r.stderr)).toMatch(message);
  });

  it('package-json: the start script, run by npm', async () => {
    const snippet = JSON.parse(await render(profile, '--format', 'package-json', '--relative')) as { scripts: { start: string } };
    expect(snippet.scripts.start).toBe("node --permission '--allow-fs-write=./logs/*' index.js");
    const pkgFile = path.join(dir, 'package.json');
    const original = readFileSync(pkgFile, 'utf8');
    writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(original), scripts: snippet.scripts }, null, 2));
    try {
      expectStarted(
        await sh('npm start --silent', dir, 26, {
          env: { ...baseEnv, PATH: `${path.dirname(nodeBinary(26))}:${baseEnv.PATH}`, npm_config_update_notifier: 'false' },
        }),
        dir,
      );
    } finally {
      writeFileSync(pkgFile, original);
    }
  });

  it('json: the profile as learned, with the rendering and its notes beside it', async () => {
    const out = JSON.parse(await render(profile, '--format', 'json', '--node-version', '22')) as ProfileJson & {
      rendered: { node: string; flags: string[]; notes: { code: string }[] };
    };
    expect(out.node).toBe('v26.10.0');
    expect(out.rendered.node).toBe('v22.0.0');
    expect(out.rendered.flags).toEqual(['--experimental-permission', `--allow-fs-write=${dir}/logs/*`]);
    expect(out.rendered.notes.map((n) => n.code)).toEqual(['net-unenforced', 'sqlite-unchecked', 'env-file-unchecked']);
  });

  it('--relative: the output works after the app moved to another folder; absolute flags do not', async () => {
    const moved = path.join(path.dirname(dir), 'elsewhere', 'deeper', 'write-log');
    mkdirSync(path.dirname(moved), { recursive: true });
    cpSync(dir, moved, { recursive: true });
    const relative = (await render(profile, '--relative')).trim();
    expect(relative).toBe("--permission '--allow-fs-write=./logs/*'");
    expectStarted(await sh(`node ${relative} index.js`, moved, 26), moved);

    const lines = (await render(profile, '--format', 'args', '--relative')).split('\n').filter(Boolean);
    expectStarted(await runNode(26, lines, 'index.js', [], moved), moved);

    const value = (await render(profile, '--format', 'node-options', '--relative')).trimEnd();
    expectStarted(await runNode(26, [], 'index.js', [], moved, { env: { ...baseEnv, NODE_OPTIONS: value } }), moved);

    writeFileSync(path.join(moved, 'node.config.json'), await render(profile, '--format', 'config', '--relative'));
    expectStarted(await runNode(26, ['--experimental-config-file=node.config.json'], 'index.js', [], moved), moved);
    rmSync(path.join(moved, 'node.config.json'));

    // the absolute rendering still points at the old folder, so the moved app is denied
    const absolute = (await render(profile)).trim();
    const denied = await sh(`node ${absolute} index.js`, moved, 26);
    expect(denied.exitCode).not.toBe(0);
    expect(String(denied.stderr)).toMatch(/ERR_ACCESS_DENIED/);
    // ... unless it is rendered for the new cwd
    const rebased = (await render(profile, '--cwd', moved)).trim();
    expect(rebased).toBe(`--permission '--allow-fs-write=${moved}/logs/*'`);
    expectStarted(await sh(`node ${rebased} index.js`, moved, 26), moved);
  });

  it('for Node 20: the enable flag becomes --experimental-permission and the entry file is granted', async () => {
    const line = (await render(profile, '--node-version', '20')).trim();
    expect(line).toBe(`--experimental-permission --allow-fs-read=${dir}/index.js '--allow-fs-write=${dir}/logs/*'`);
    expectStarted(await sh(`node ${line} index.js`, dir, 20), dir);
    // --node reads the version from the binary; relative paths work on 20 too
    const r = await runCli(['render', profile, '--node', nodeBinary(20), '--relative']);
    expect(String(r.stdout).trim()).toBe("--experimental-permission --allow-fs-read=./index.js '--allow-fs-write=./logs/*'");
    expect(String(r.stderr)).toMatch(/note: Node 20 does not grant the entry file by itself/);
    expectStarted(await sh(`node ${String(r.stdout).trim()} index.js`, dir, 20), dir);
  });

  it('for Node 22 and 24 the same profile runs too', async () => {
    for (const major of [22, 24]) {
      const lines = (await render(profile, '--format', 'args', '--node-version', String(major))).split('\n').filter(Boolean);
      expectStarted(await runNode(major, lines, 'index.js', [], dir), dir);
    }
  });
});

describe('--relative within a project (the nearest folder with .git)', () => {
  it('a path outside the cwd but inside the project becomes ../x, and the whole checkout can move', async () => {
    const copy = copyFixture('scopes/read-config');
    const repo = path.join(path.dirname(copy), 'repo');
    const app = path.join(repo, 'packages', 'app');
    const sub = path.join(app, 'sub');
    mkdirSync(sub, { recursive: true });
    mkdirSync(path.join(repo, '.git'));
    cpSync(copy, app, { recursive: true });
    const profile = path.join(repo, 'profile.json');
    const learned = await runCli(['--node', nodeBinary(26), '--cwd', sub, '--format', 'json', '--out', profile, path.join(app, 'index.js')]);
    expect(learned.exitCode, String(learned.stderr)).toBe(0);

    const r = await runCli(['render', profile, '--format', 'package-json', '--relative']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const start = (JSON.parse(String(r.stdout)) as { scripts: { start: string } }).scripts.start;
    expect(start).toBe('node --permission --allow-fs-read=../config.json ../index.js');

    const moved = path.join(path.dirname(copy), 'moved', 'checkout');
    mkdirSync(path.dirname(moved));
    cpSync(repo, moved, { recursive: true });
    rmSync(repo, { recursive: true });
    const ran = await sh(start, path.join(moved, 'packages', 'app', 'sub'), 26);
    expect(ran.exitCode, String(ran.stderr)).toBe(0);
    expect(String(ran.stdout)).toContain('ok: read-config');

    // without .git above it the project is the cwd alone: the file outside it is not moved and stays
    // absolute (with a note); --root names the project instead
    rmSync(path.join(moved, '.git'), { recursive: true });
    const cwd = path.join(moved, 'packages', 'app', 'sub');
    const alone = await runCli(['render', path.join(moved, 'profile.json'), '--relative', '--cwd', cwd]);
    expect(String(alone.stdout).trim()).toBe(`--permission --allow-fs-read=${repo}/packages/app/config.json`);
    expect(String(alone.stderr)).toMatch(/stays absolute: it is outside the project/);
    const rooted = await runCli(['render', path.join(moved, 'profile.json'), '--relative', '--cwd', cwd, '--root', path.join(moved, 'packages')]);
    expect(String(rooted.stdout).trim()).toBe('--permission --allow-fs-read=../config.json');
  });
});

describe('scopes the target cannot grant or does not restrict', () => {
  it('the network on Node 24: --allow-net left out (24 rejects it) with a note, and 24 runs the flags', async () => {
    const dir = copyFixture('scopes/write-log');
    const profile = path.join(path.dirname(dir), 'net-profile.json');
    writeFileSync(
      profile,
      JSON.stringify({
        permlearn: 1,
        node: 'v26.10.0',
        entry: `${dir}/index.js`,
        args: [],
        cwd: dir,
        flags: ['--permission', `--allow-fs-write=${dir}/logs/*`, '--allow-net', '--allow-ffi'],
        runs: 1,
        strategy: 'audit',
        verified: true,
        status: 'verified',
        observed: [],
        ungrantable: [],
        warnings: [],
        grants: [
          { scope: 'fs.write', flag: `--allow-fs-write=${dir}/logs/*`, path: `${dir}/logs`, kind: 'created-dir', denials: [], notes: [] },
          { scope: 'net', flag: '--allow-net', denials: [], notes: [] },
          { scope: 'ffi', flag: '--allow-ffi', denials: [], notes: [] },
        ],
      }),
    );
    const r = await runCli(['render', profile, '--format', 'args', '--node-version', '24']);
    expect(r.exitCode).toBe(0);
    const lines = String(r.stdout).split('\n').filter(Boolean);
    expect(lines).toEqual(['--permission', `--allow-fs-write=${dir}/logs/*`]);
    expect(String(r.stderr)).toMatch(/note: --allow-net left out: Node 24 does not restrict the network at all/);
    expect(String(r.stderr)).toMatch(/warning: --allow-ffi left out: Node 24 has no such flag/);
    expectStarted(await runNode(24, lines, 'index.js', [], dir), dir);
    // the control: Node 24 refuses the flag that was left out
    const bad = await runNode(24, [...lines, '--allow-net'], 'index.js', [], dir);
    expect(bad.exitCode).toBe(9);
    expect(String(bad.stderr)).toMatch(/bad option: --allow-net/);
  });
});

describe('a path with a space', () => {
  let dir: string;
  let profile: string;

  beforeAll(async () => {
    const copy = copyFixture('scopes/write-log');
    dir = path.join(path.dirname(copy), 'my app', 'write-log');
    mkdirSync(path.dirname(dir));
    cpSync(copy, dir, { recursive: true });
    profile = await learn(dir, 26);
  });

  it('survives the flags line, NODE_OPTIONS (in double quotes) and the start script', async () => {
    const line = (await render(profile)).trim();
    expect(line).toBe(`--permission '--allow-fs-write=${dir}/logs/*'`);
    expectStarted(await sh(`node ${line} index.js`, dir, 26), dir);

    const value = (await render(profile, '--format', 'node-options')).trimEnd();
    expect(value).toBe(`--permission "--allow-fs-write=${dir}/logs/*"`);
    expectStarted(await runNode(26, [], 'index.js', [], dir, { env: { ...baseEnv, NODE_OPTIONS: value } }), dir);
    // Node 20: the entry file needs a grant, quoted as well
    const value20 = (await render(profile, '--format', 'node-options', '--node-version', '20')).trimEnd();
    expect(value20).toBe(`--experimental-permission "--allow-fs-read=${dir}/index.js" "--allow-fs-write=${dir}/logs/*"`);
    expectStarted(await runNode(20, [], 'index.js', [], dir, { env: { ...baseEnv, NODE_OPTIONS: value20 } }), dir);

    const snippet = JSON.parse(await render(profile, '--format', 'package-json')) as { scripts: { start: string } };
    expectStarted(await sh(snippet.scripts.start, dir, 26), dir);
  });
});

describe('the learn command writes every format', () => {
  it('--format args --relative: argv lines that work from the cwd', async () => {
    const dir = copyFixture('scopes/write-log');
    const r = await runCli(['--node', nodeBinary(26), '--format', 'args', '--relative', 'index.js'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const lines = String(r.stdout).split('\n').filter(Boolean);
    expect(lines).toEqual(['--permission', '--allow-fs-write=./logs/*']);
    rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
    expectStarted(await runNode(26, lines, 'index.js', [], dir), dir);
  });

  it('--format config --out under Node 26; refused before learning under Node 22', async () => {
    const dir = copyFixture('scopes/write-log');
    const config = path.join(dir, 'node.config.json');
    const r = await runCli(['--node', nodeBinary(26), '--format', 'config', '--relative', '--out', config, 'index.js'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
    expectStarted(await runNode(26, ['--experimental-config-file=node.config.json'], 'index.js', [], dir), dir);

    const refused = await runCli(['--node', nodeBinary(22), '--format', 'config', 'index.js'], { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(String(refused.stderr)).toMatch(/^permlearn: --format config: Node 22 silently ignores/);
    expect(String(refused.stderr)).not.toMatch(/learning/);
  });
});

describe('bad input to render: one line and exit 2 (9 for a file that is not a usable profile)', () => {
  it.each<[string, (dir: string) => string[], RegExp, number?]>([
    ['a missing file', (d) => [path.join(d, 'nope.json')], /cannot read .*nope\.json: ENOENT/],
    ['a file that is not JSON', (d) => [path.join(d, 'index.js')], /is not JSON/, 9],
    ['JSON that is not a profile', (d) => [path.join(d, 'package.json')], /is not a permlearn profile/, 9],
    ['an unknown version', (d) => [path.join(d, 'p.json'), '--node-version', 'latest'], /--node-version must look like/],
    ['a version without the model', (d) => [path.join(d, 'p.json'), '--node-version', '18'], /Node v18\.0\.0 has no permission model/],
    ['--node that is not Node', (d) => [path.join(d, 'p.json'), '--node', '/bin/true'], /is not a usable Node\.js binary/],
    ['both --node and --node-version', (d) => [path.join(d, 'p.json'), '--node', nodeBinary(20), '--node-version', '20'], /mutually exclusive/],
    ['an unknown format', (d) => [path.join(d, 'p.json'), '--format', 'yaml'], /Invalid values: Argument: format/],
    ['an unverified profile as flags', (d) => [path.join(d, 'unverified.json')], /did not verify \(app-failed\).*only --format json/],
    ['--out onto an existing file', (d) => [path.join(d, 'p.json'), '--out', path.join(d, 'index.js')], /already exists; pass --force/],
  ])('%s', async (_name, args, message, code = 2) => {
    const dir = copyFixture('scopes/write-log');
    const p = {
      permlearn: 1,
      node: 'v26.10.0',
      entry: `${dir}/index.js`,
      args: [],
      cwd: dir,
      flags: ['--permission'],
      grants: [],
      runs: 1,
      strategy: 'rerun',
      verified: true,
      status: 'verified',
      observed: [],
      ungrantable: [],
      warnings: [],
    };
    writeFileSync(path.join(dir, 'p.json'), JSON.stringify(p));
    writeFileSync(path.join(dir, 'unverified.json'), JSON.stringify({ ...p, verified: false, status: 'app-failed' }));
    const r = await runCli(['render', ...args(dir)]);
    expect(r.exitCode, String(r.stderr)).toBe(code);
    expect(String(r.stdout)).toBe('');
    const err = String(r.stderr).trim();
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toMatch(message);
    expect(err).not.toMatch(/\n\s+at /);
  });
});
