// The path a user takes: the published packages, packed as `npm publish` would pack them, installed with
// plain npm into a fresh app outside this workspace (no NODE_PATH, no workspace links), then
// `npx permlearn` from that app. The learned flags must start the app under a real Node binary.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBinary, processesMentioning, root } from '../helpers/e2e.js';

const PNPM = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager as string;
const PUBLISHED = [
  { dir: 'packages/core', name: '@permlearn/core', tarball: 'permlearn-core-0.1.0.tgz' },
  { dir: 'packages/cli', name: 'permlearn', tarball: 'permlearn-0.1.0.tgz' },
] as const;

let work: string;
let app: string;
const version = JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8')).version as string;

/** Only what a user's shell would have: node and npm on PATH, a home folder (npm's cache), nothing else. */
const userEnv = {
  PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
  HOME: process.env.HOME ?? os.homedir(),
  NO_COLOR: '1',
};

const tarFiles = (tgz: string) =>
  execa('tar', ['-tzf', tgz]).then((r) =>
    r.stdout
      .split('\n')
      .map((f) => f.replace(/^package\//, ''))
      .filter(Boolean),
  );
const tarRead = (tgz: string, file: string) => execa('tar', ['-xOzf', tgz, `package/${file}`]).then((r) => r.stdout);

const npx = (args: string[]) =>
  execa('npx', ['--no-install', 'permlearn', ...args], { cwd: app, env: userEnv, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 });

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pl-release-'));
  for (const p of PUBLISHED) {
    // pnpm pack is what turns "workspace:*" into a version; `pnpm publish` packs the same way.
    await execa('npx', ['--yes', PNPM, 'pack', '--pack-destination', work], { cwd: path.join(root, p.dir), stdin: 'ignore' });
  }
  app = path.join(work, 'my-app');
  cpSync(path.join(root, 'fixtures', 'release', 'tiny-app'), app, { recursive: true });
  // Plain npm, as a user runs it. The dependencies come from npm's cache when it has them (the
  // registry otherwise); the two tarballs stand in for the registry's copies of our packages.
  const install = await execa(
    'npm',
    ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...PUBLISHED.map((p) => path.join(work, p.tarball))],
    { cwd: app, env: userEnv, extendEnv: false, reject: false, stdin: 'ignore', timeout: 120_000 },
  );
  expect(install.exitCode, install.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it.each(PUBLISHED)('$name: complete metadata, LICENSE, no workspace protocol, publint clean', async (p) => {
    const tgz = path.join(work, p.tarball);
    const files = await tarFiles(tgz);
    const pkg = JSON.parse(await tarRead(tgz, 'package.json'));
    expect(pkg.name).toBe(p.name);
    expect(pkg.version).toBe(version);
    expect(pkg.license).toBe('MIT');
    for (const key of ['description', 'homepage', 'keywords', 'engines', 'files']) expect(pkg[key], key).toBeTruthy();
    expect(pkg.repository).toMatchObject({ type: 'git', directory: p.dir });
    expect(pkg.bugs.url).toMatch(/^https:\/\//);
    expect(JSON.stringify(pkg.dependencies)).not.toContain('workspace:');
    expect(await tarRead(tgz, 'LICENSE')).toBe(readFileSync(path.join(root, 'LICENSE'), 'utf8').trimEnd());
    expect(files).toContain('README.md');
    expect(files.filter((f) => /\.test\.|(^|\/)fixtures\//.test(f))).toEqual([]);
    // Every source map ships with the sources it points at.
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const { sources } = JSON.parse(await tarRead(tgz, map)) as { sources: string[] };
      for (const s of sources) expect(files, `${map} → ${s}`).toContain(path.posix.normalize(path.posix.join(path.posix.dirname(map), s)));
    }
    const { messages, pkg: linted } = await publint({ pack: { tarball: readFileSync(tgz).buffer as ArrayBuffer }, level: 'suggestion', strict: true });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, linted, { color: false })}`)).toEqual([]);
  });

  it('the CLI depends on exactly its own version of the library', async () => {
    const pkg = JSON.parse(await tarRead(path.join(work, 'permlearn-0.1.0.tgz'), 'package.json'));
    expect(pkg.dependencies['@permlearn/core']).toBe(version);
    expect(pkg.bin).toEqual({ permlearn: 'bin/permlearn.js' });
    expect(await tarFiles(path.join(work, 'permlearn-0.1.0.tgz'))).toContain('schema/permlearn.config.schema.json');
  });

  it('CHANGELOG.md starts with the current version', () => {
    const changelog = readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');
    expect(/^## \[?(\d+\.\d+\.\d+)/m.exec(changelog)?.[1]).toBe(version);
  });
});

describe('installed with plain npm into a fresh app', () => {
  it('npx permlearn --version, -v and -h', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await npx([flag]);
      expect([r.exitCode, r.stdout, r.stderr], flag).toEqual([0, version, '']);
    }
    const help = await npx(['-h']);
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: permlearn /m);
    expect(help.stdout).toMatch(/^Examples:/m);
  });

  it('learns the app, and real node accepts the printed flags', async () => {
    const node = nodeBinary(26);
    const learned = await npx(['--node', node, '--format', 'args', 'app.js']);
    expect(learned.exitCode, learned.stderr).toBe(0);
    const flags = learned.stdout.split('\n');
    expect(flags).toEqual(['--permission', `--allow-fs-read=${app}/config.json`, `--allow-fs-write=${app}/logs/*`]);
    rmSync(path.join(app, 'logs'), { recursive: true, force: true });
    const run = await execa(node, [...flags, 'app.js'], { cwd: app, env: userEnv, extendEnv: false, reject: false, stdin: 'ignore' });
    expect([run.exitCode, run.stdout, run.stderr]).toEqual([0, 'ok: tiny-app tiny', '']);
    expect(readFileSync(path.join(app, 'logs', 'app.log'), 'utf8')).toBe('hello tiny\n');
    // Without the write grant the same app is denied: the flags are what makes it run.
    const without = await execa(node, [flags[0]!, flags[1]!, 'app.js'], { cwd: app, env: userEnv, extendEnv: false, reject: false, stdin: 'ignore' });
    expect(without.exitCode).not.toBe(0);
    expect(without.stderr).toContain('ERR_ACCESS_DENIED');
    expect(processesMentioning(app)).toEqual([]);
  });

  it('reads a config whose $schema is the installed schema', async () => {
    const schema = './node_modules/permlearn/schema/permlearn.config.schema.json';
    expect(JSON.parse(readFileSync(path.join(app, schema), 'utf8')).title).toBe('permlearn.config.json');
    rmSync(path.join(app, 'logs'), { recursive: true, force: true });
    writeFileSync(path.join(app, 'permlearn.config.json'), JSON.stringify({ $schema: schema, entry: 'app.js', relative: true, node: nodeBinary(26) }));
    try {
      const r = await npx(['-q']);
      expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, "--permission --allow-fs-read=./config.json '--allow-fs-write=./logs/*'", '']);
    } finally {
      rmSync(path.join(app, 'permlearn.config.json'));
    }
  });

  it('resolves permlearn and its library from the app, not from this workspace', async () => {
    const r = await execa(
      process.execPath,
      ['-p', "require.resolve('@permlearn/core/package.json') + '\\n' + require('node:fs').realpathSync(require.resolve('permlearn/package.json'))"],
      {
        cwd: app,
        env: userEnv,
        extendEnv: false,
      },
    );
    for (const line of r.stdout.split('\n')) expect(line.startsWith(path.join(app, 'node_modules'))).toBe(true);
  });

  it('records in complain mode with one change to the start command (--require permlearn/record)', async () => {
    const records = path.join(work, 'records');
    const r = await execa(nodeBinary(26), ['--permission-audit', '--require', 'permlearn/record', 'app.js'], {
      cwd: app,
      env: { ...userEnv, PERMLEARN_RECORD: records, PERMLEARN_RECORD_KEY: 'release-test-record-key' },
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    const [file] = readdirSync(records);
    const text = readFileSync(path.join(records, file!), 'utf8');
    expect(text).toContain(`"resource":"${path.join(app, 'config.json')}"`);
    expect(text).toContain('"final":true');
  });
});
