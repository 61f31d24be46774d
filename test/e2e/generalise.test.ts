// What the default profile exposes, --root, and --minimize, against real Node.
import path from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, runNode, withServer, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const learn = async (dir: string, args: string[]) => {
  const r = await runCli(['--format', 'json', ...args], { cwd: dir });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return { profile: JSON.parse(String(r.stdout)) as ProfileJson, stderr: String(r.stderr) };
};

describe('exposure and secrets', () => {
  it.each([26, 22])('Node %i: a secret the app reads is flagged; a folder holding one is not granted', async (major) => {
    const dir = copyFixture('apps/with-secrets');
    const { profile, stderr } = await learn(dir, ['--node', nodeBinary(major), 'index.js']);
    const key = profile.grants.find((g) => g.path === `${dir}/keys/server.key`);
    expect(key?.exposes).toEqual({ files: 1, secrets: [`${dir}/keys/server.key`] });
    expect(key?.risk).toMatch(/read access to a secret-looking file/);
    expect(stderr).toMatch(/⚠ read access to a secret-looking file/);
    // Never the config folder (it holds .env), and nothing anywhere exposes the .env.
    expect(profile.flags).toEqual([
      '--permission',
      `--allow-fs-read=${dir}/config/settings.json`,
      `--allow-fs-read=${dir}/keys/server.key`,
      `--allow-fs-read=${dir}/lib`,
    ]);
    for (const g of profile.grants) expect(g.exposes?.secrets ?? []).not.toContain(`${dir}/config/.env`);
    const lib = profile.grants.find((g) => g.path === `${dir}/lib`);
    expect(lib?.exposes).toEqual({ files: 1, secrets: [] });
    expect(lib?.notes.map((n) => n.code)).toEqual(['generalised']);
  });
});

describe('--root', () => {
  it('no grant is widened to the root or above it', async () => {
    const dir = copyFixture('apps/with-secrets');
    // With the root at lib/, lib's own file is at the root: it stays a file.
    const { profile } = await learn(dir, ['--node', nodeBinary(26), '--root', 'lib', 'index.js']);
    expect(profile.flags).toEqual([
      '--permission',
      `--allow-fs-read=${dir}/config/settings.json`,
      `--allow-fs-read=${dir}/keys/server.key`,
      `--allow-fs-read=${dir}/lib/greet.js`,
    ]);
  });

  it('a root that is not a folder is a usage error', async () => {
    const dir = copyFixture('apps/with-secrets');
    const r = await runCli(['--node', nodeBinary(26), '--root', 'nope', 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/--root .*nope is not a directory/);
  });
});

describe('--minimize', () => {
  it('Node 22: removes what the app starts without and narrows a folder to its few files; the result starts the app', async () => {
    const dir = copyFixture('apps/express-service');
    rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
    const port = 47_700 + (process.pid % 100);
    const { profile, stderr } = await learn(dir, ['--node', nodeBinary(22), '--ready-stdout', '^listening', '--minimize', 'server.js', '--', String(port)]);
    expect(profile.verified).toBe(true);
    // On 22 a Worker reads the cwd subtree (a Node leak), so what the observe run saw the Worker read is
    // not needed to start; what was removed is gone from the flags. (A Node child's entry, which Node
    // grants the child itself, is not learned at all.)
    expect(profile.minimized).toEqual({
      removed: [`--allow-fs-read=${dir}/public`],
      narrowed: [
        { from: `--allow-fs-read=${dir}/config`, to: [`--allow-fs-read=${dir}/config/schema.json`, `--allow-fs-read=${dir}/config/service.yaml`] },
        {
          from: `--allow-fs-read=${dir}/lib`,
          to: [`--allow-fs-read=${dir}/lib/banner.mjs`, `--allow-fs-read=${dir}/lib/digest-worker.js`, `--allow-fs-read=${dir}/lib/text.mjs`],
        },
      ],
      untried: [],
    });
    expect(profile.flags).toEqual([
      '--permission',
      `--allow-fs-read=${dir}/config/schema.json`,
      `--allow-fs-read=${dir}/config/service.yaml`,
      `--allow-fs-read=${dir}/lib/banner.mjs`,
      `--allow-fs-read=${dir}/lib/digest-worker.js`,
      `--allow-fs-read=${dir}/lib/text.mjs`,
      `--allow-fs-read=${dir}/node_modules`,
      `--allow-fs-read=${dir}/package.json`,
      `--allow-fs-write=${dir}/logs/*`,
      '--allow-child-process',
      '--allow-worker',
    ]);
    expect(stderr).toMatch(/minimize: \d+ removed, \d+ narrowed/);

    // The smaller profile still starts the service from a clean state and serves.
    rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
    const res = await withServer(22, profile.flags, 'server.js', [String(port)], dir, 'listening', () => fetch(`http://127.0.0.1:${port}/health`));
    expect(res.status).toBe(200);
  });
});

describe('--caught', () => {
  it.each([26, 22])(
    'Node %i: a file of the project the app reads inside a try is kept (it would run on its defaults without it); the has() it got by without is not',
    async (major) => {
      const dir = copyFixture('caught/optional-read');
      // Without tightening, everything the app asked for is granted (on 24+ also the write has() asked about).
      const granted = await learn(dir, ['--node', nodeBinary(major), '--no-tighten', 'index.js']);
      expect(granted.profile.flags).toEqual([
        '--permission',
        `--allow-fs-read=${dir}/override.json`,
        ...(major >= 24 ? [`--allow-fs-write=${dir}/cache.json`] : []),
      ]);
      // By default the override is kept: denied, the app starts all the same and prints its default colour,
      // which no exit code tells from the user's setting.
      const tightDir = copyFixture('caught/optional-read');
      const tight = await learn(tightDir, ['--node', nodeBinary(major), 'index.js']);
      expect(tight.profile.flags).toEqual(['--permission', `--allow-fs-read=${tightDir}/override.json`]);
      expect(tight.profile.runs).toBe(2);
      const run = await runNode(major, tight.profile.flags, 'index.js', [], tightDir);
      expect(String(run.stdout)).toBe('ok: green');
      const without = await runNode(major, ['--permission'], 'index.js', [], tightDir);
      expect(String(without.stdout)).toBe('ok: blue');
      // --caught report minimizes: only what the app cannot start without stays, and it starts on its
      // defaults, so the override goes (the user asked for exactly that).
      const reportedDir = copyFixture('caught/optional-read');
      const reported = await learn(reportedDir, ['--node', nodeBinary(major), '--caught', 'report', 'index.js']);
      expect(reported.profile.flags).toEqual(['--permission']);
      expect(reported.profile.verified).toBe(true);
      expect(reported.profile.minimized).toEqual({ removed: [`--allow-fs-read=${reportedDir}/override.json`], narrowed: [], untried: [] });
    },
  );

  it.each([26, 24])(
    'Node %i: a has() that said no is a request (24+ publishes it), and tightening leaves it out because the app handles the no',
    async (major) => {
      const loose = copyFixture('caught/optional-read');
      const { profile: asked } = await learn(loose, ['--node', nodeBinary(major), '--no-tighten', 'index.js']);
      expect(asked.flags).toEqual(['--permission', `--allow-fs-read=${loose}/override.json`, `--allow-fs-write=${loose}/cache.json`]);
      const dir = copyFixture('caught/optional-read');
      const { profile } = await learn(dir, ['--node', nodeBinary(major), 'index.js']);
      // The has() is a candidate the verification run goes without; the override's read, inside a try with
      // a catch, is not one (readsProjectContent): its contents are the app's settings.
      expect(profile.flags).toEqual(['--permission', `--allow-fs-read=${dir}/override.json`]);
      expect(profile.runs).toBe(2);
      expect((profile as { tightened?: unknown }).tightened).toEqual({
        removed: [
          {
            flag: `--allow-fs-write=${dir}/cache.json`,
            why: 'only process.permission.has() asking whether it may, and the app started without it',
            asks: 1,
            denials: [
              expect.objectContaining({
                permission: 'FileSystemWrite',
                resource: `${dir}/cache.json`,
                source: 'channel',
                asked: 'has',
                by: 'app',
                at: 'index.js:14',
              }),
            ],
          },
        ],
        kept: [],
        untried: [],
        trials: 0,
      });
      writeFileSync(path.join(dir, 'learned.json'), JSON.stringify(profile));
      const explained = await runCli(['explain', path.join(dir, 'learned.json')], { cwd: dir });
      expect(explained.stdout).toContain(
        `--allow-fs-write=${dir}/cache.json  1 check: only process.permission.has() asking whether it may, and the app started without it\n  FileSystemWrite ${dir}/cache.json  asked by app (index.js:14)  [channel]\n`,
      );
    },
  );
});
