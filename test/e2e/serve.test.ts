// Servers learned with exercise commands, learned through their start command (permlearn run), and
// drop plans, on fixtures/apps/serve-static: it reads config and a token at start-up, then serves
// files of public/ and logs each request.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, freshHomeAndTmp, leftoverProcesses, nodeBinary, removeCopies, root, runCli, withServer, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

let nextPort = 47_600 + (process.pid % 50) * 2;
/** An exercise command: GET a URL with the Node running the tests, failing unless 2xx. */
const get = (url: string) =>
  `${JSON.stringify(process.execPath)} -e ${JSON.stringify(`fetch(${JSON.stringify(url)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(2))`)}`;

type Profile = ProfileJson;

/** The drop() calls of a drop plan, in order, without their comments. */
const dropCalls = (plan: string) => plan.split('\n').flatMap((l) => /^process\.permission\.(drop\([^)]*\));/.exec(l)?.[1] ?? []);

describe('--exercise', () => {
  it.each([26, 22])('Node %i: what serving a route needs is learned, and the profile serves it', async (major) => {
    const dir = copyFixture('apps/serve-static');
    const port = nextPort++;
    const url = `http://127.0.0.1:${port}/file/index.html`;
    const r = await runCli(
      ['--node', nodeBinary(major), '--ready-stdout', '^listening', '--exercise', get(url), '--format', 'json', 'server.js', '--', String(port)],
      { cwd: dir },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as Profile;
    expect(profile.verified).toBe(true);
    // The config and the token are read at start-up; listening is a network permission only on 26.
    expect(profile.flags).toEqual([
      '--permission',
      `--allow-fs-read=${dir}/config`,
      `--allow-fs-read=${dir}/public`,
      `--allow-fs-read=${dir}/secrets`,
      `--allow-fs-write=${dir}/logs/access.log`,
      ...(major >= 26 ? ['--allow-net'] : []),
    ]);
    expect(profile.exercise?.results.map((e) => e.exitCode)).toEqual([0]);
    expect(profile.warnings.join('\n')).not.toMatch(/start-up alone/);
    const res = await withServer(major, profile.flags, 'server.js', [String(port)], dir, 'listening', () => fetch(url));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<h1>static</h1>');
  });

  it('Node 26: without exercise the route is not learned, and the report says so', async () => {
    const dir = copyFixture('apps/serve-static');
    const port = nextPort++;
    const r = await runCli(['--node', nodeBinary(26), '--ready-stdout', '^listening', '--format', 'json', 'server.js', '--', String(port)], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as Profile;
    expect(profile.flags).toEqual(['--permission', `--allow-fs-read=${dir}/config`, `--allow-fs-read=${dir}/secrets`, '--allow-net']);
    expect(profile.warnings.join('\n')).toMatch(/learned from start-up alone/);
    expect(String(r.stderr)).toMatch(/learned from start-up alone/);
  });

  it('a failing exercise command with no denial behind it is reported (exit 3)', async () => {
    const dir = copyFixture('apps/serve-static');
    const port = nextPort++;
    const r = await runCli(
      ['--node', nodeBinary(26), '--ready-stdout', '^listening', '--exercise', get(`http://127.0.0.1:${port}/nope`), 'server.js', '--', String(port)],
      { cwd: dir },
    );
    expect(r.exitCode).toBe(3);
    expect(String(r.stderr)).toMatch(/the exercise command .*nope.* exited with code 1 with no permission denial/);
  });
});

/**
 * The statuses of GETs of `urls` from real node with exactly `flags`, the way a user runs the profile: a
 * pristine copy of the fixture at `dir` (the path the flags name), a fresh HOME and TMPDIR.
 */
async function servePristine(fixture: string, dir: string, major: number, port: number, flags: string[], urls: string[]): Promise<number[]> {
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(root, 'fixtures', fixture), dir, { recursive: true });
  const e = freshHomeAndTmp('pristine');
  try {
    const get = async (u: string) => (await fetch(`http://127.0.0.1:${port}${u}`)).status;
    return await withServer(major, flags, 'server.js', [String(port)], dir, 'listening', () => Promise.all(urls.map(get)), { env: e.env });
  } finally {
    e.done();
  }
}

/** Learn a server fixture with one exercise (a GET of that path, or that command): its profile and report. */
async function learnServer(fixture: string, major: number, port: number, exercised: string) {
  const dir = copyFixture(fixture);
  const exercise = exercised.startsWith('/') ? get(`http://127.0.0.1:${port}${exercised}`) : exercised;
  const r = await runCli(
    ['--node', nodeBinary(major), '--ready-stdout', '^listening', '--exercise', exercise, '--format', 'json', 'server.js', '--', String(port)],
    { cwd: dir },
  );
  expect(r.exitCode, String(r.stderr)).toBe(0);
  const profile = JSON.parse(String(r.stdout)) as Profile;
  expect(profile.verified).toBe(true);
  return { dir, profile, stderr: String(r.stderr) };
}

// A static middleware that looks each request's path up under a folder that does not exist (sirv's shape,
// json-server's): the folder is granted as `public/*`, so a URL the exercise never asked for is served too,
// in three runs (audit or observe, the fold that fails without the lookups, the fold with them).
describe('caught/missing-static', () => {
  /** The profile both ways of learning it give: the data file, the missing folder whole, and on 26 the network. */
  const missingStaticFlags = (dir: string, major: number) => [
    '--permission',
    `--allow-fs-read=${dir}/data.json`,
    `--allow-fs-read=${dir}/public/*`,
    ...(major >= 26 ? ['--allow-net'] : []),
  ];

  it.each([26, 24, 22])('Node %i: the missing folder searched is granted whole, and an unexercised URL is served', async (major) => {
    const port = nextPort++;
    const { dir, profile, stderr } = await learnServer('caught/missing-static', major, port, '/api/posts');
    expect(profile.flags).toEqual(missingStaticFlags(dir, major));
    expect(stderr).toMatch(/the app ran for real 3 times/);
    // The folder comes from the exercised URL's path (request-folder.ts) before the search of many names would.
    expect(stderr).toContain(`the app looks requests' paths up under ${dir}/public (/api/posts → api/posts)`);
    // A collection the exercise never asked for is served; without `public/*` every request fails.
    expect(await servePristine('caught/missing-static', dir, major, port, profile.flags, ['/api/comments', '/api/posts'])).toEqual([200, 200]);
    expect(
      await servePristine(
        'caught/missing-static',
        dir,
        major,
        port,
        profile.flags.filter((f) => !f.endsWith('/public/*')),
        ['/api/comments'],
      ),
    ).toEqual([500]);
  });

  it.each([26, 22])('Node %i: from an exercise that names no URL, the names looked up under the missing folder show it', async (major) => {
    const port = nextPort++;
    const { dir, profile, stderr } = await learnServer('caught/missing-static', major, port, `${JSON.stringify(process.execPath)} get.mjs ${port}`);
    expect(profile.flags).toEqual(missingStaticFlags(dir, major));
    expect(stderr).toMatch(/the app ran for real 3 times/);
    expect(stderr).toContain(`names looked up under ${dir}/public, which does not exist (api/posts, api/posts.html, api/posts/index.html)`);
    expect(await servePristine('caught/missing-static', dir, major, port, profile.flags, ['/api/comments'])).toEqual([200]);
  });
});

// express.static's shape: one stat of public/<path> for every request, an existing public/ with the home
// page, and an exercise of the API alone. The folder the request paths map onto is granted whole, so the
// home page and its stylesheet, which no run asked for, are served by the profile.
describe('apps/static-api', () => {
  it.each([26, 24, 22])('Node %i: the folder served is granted whole from the API URL the exercise asked for', async (major) => {
    const port = nextPort++;
    const { dir, profile, stderr } = await learnServer('apps/static-api', major, port, '/api/posts');
    expect(profile.flags).toEqual(['--permission', `--allow-fs-read=${dir}/public`, ...(major >= 26 ? ['--allow-net'] : [])]);
    expect(stderr).toMatch(/the app ran for real 3 times/);
    const urls = ['/', '/css/site.css', '/api/comments', '/api/posts'];
    expect(await servePristine('apps/static-api', dir, major, port, profile.flags, urls)).toEqual([200, 200, 200, 200]);
    expect(await servePristine('apps/static-api', dir, major, port, profile.flags.slice(0, 1).concat(profile.flags.slice(2)), urls)).toEqual([
      500, 500, 500, 500,
    ]);
  });
});

describe('permlearn run -- npm start', () => {
  it.each([26, 22, 20])('Node %i: the Node process the start script launches is learned; npm stays out of the profile', async (major) => {
    const dir = copyFixture('apps/serve-static');
    const port = nextPort++;
    const url = `http://127.0.0.1:${port}/file/index.html`;
    const r = await runCli(
      [
        'run',
        '--node',
        nodeBinary(major),
        '--ready-stdout',
        '^listening',
        '--exercise',
        get(url),
        '--format',
        'json',
        '--',
        'npm',
        'start',
        '--',
        String(port),
      ],
      { cwd: dir },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as Profile;
    expect(profile.verified).toBe(true);
    expect(profile.command).toEqual(['npm', 'start', '--', String(port)]);
    // On 20 the server's own entry file is granted too; 22+ grant a Node process its own entry, so the
    // server started with the flags in NODE_OPTIONS reads it without one.
    expect(profile.flags).toEqual([
      major === 20 ? '--experimental-permission' : '--permission',
      `--allow-fs-read=${dir}/config`,
      `--allow-fs-read=${dir}/public`,
      `--allow-fs-read=${dir}/secrets`,
      ...(major === 20 ? [`--allow-fs-read=${dir}/server.js`] : []),
      `--allow-fs-write=${dir}/logs/access.log`,
      ...(major >= 26 ? ['--allow-net'] : []),
    ]);
    // Nothing of npm's own installation is granted.
    for (const g of profile.grants) if (g.path) expect(g.path.startsWith(`${dir}/`), g.flag).toBe(true);
  });
});

describe('--format drop-plan', () => {
  it.each([26, 24])('Node %i: drops the config and the token after start-up, keeps the static folder and the log; verified', async (major) => {
    const dir = copyFixture('apps/serve-static');
    const port = nextPort++;
    const url = `http://127.0.0.1:${port}/file/index.html`;
    const args = (format: string) => [
      '--node',
      nodeBinary(major),
      '--ready-stdout',
      '^listening',
      '--exercise',
      get(url),
      '--format',
      format,
      'server.js',
      '--',
      String(port),
    ];
    const json = await runCli(args('json'), { cwd: dir });
    expect(json.exitCode, String(json.stderr)).toBe(0);
    const profile = JSON.parse(String(json.stdout)) as Profile;
    // (--format json carries the plan only when asked for one)
    expect(profile.dropPlan).toBeUndefined();

    const r = await runCli(args('drop-plan'), { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const plan = String(r.stdout);
    // Exactly these drops (the network too on 26, where listening is checked once) and these kept grants.
    expect(dropCalls(plan)).toEqual([`drop("fs.read", "${dir}/config")`, `drop("fs.read", "${dir}/secrets")`, ...(major >= 26 ? ['drop("net")'] : [])]);
    expect(
      plan
        .split('\n')
        .filter((l) => l.startsWith('// kept: '))
        .map((l) => l.replace(/, last \d+ ms after start-up\)$/, ')')),
    ).toEqual([
      `// kept: --allow-fs-read=${dir}/public: still used while serving (1 resource)`,
      `// kept: --allow-fs-write=${dir}/logs/access.log: still used while serving (1 resource)`,
    ]);
    expect(plan, String(r.stderr)).not.toMatch(/NOT VERIFIED/);

    // Independently: paste the drops after start-up in a wrapper, run it under real node with the flags,
    // and the server still serves its files and logs, while the config is no longer readable.
    // (server.js, the entry Node granted by itself, is now required by the wrapper: it needs its own grant.)
    const flags = [
      ...plan
        .split('\n')[0]!
        .replace(/^\/\/ node /, '')
        .split(' ')
        .slice(0, -1),
      `--allow-fs-read=${dir}/server.js`,
    ];
    const drops = plan.split('\n').filter((l) => l.startsWith('process.permission.drop('));
    writeFileSync(
      path.join(dir, 'with-drops.js'),
      `require('./server.js');\nsetTimeout(() => {\n${drops.join('\n')}\nconsole.log('dropped', process.permission.has('fs.read', __dirname + '/config/app.json'));\n}, 300);\n`,
    );
    const res = await withServer(major, flags, 'with-drops.js', [String(port)], dir, 'dropped', () => fetch(url));
    expect(res.status).toBe(200);
    expect(readFileSync(path.join(dir, 'logs', 'access.log'), 'utf8')).toContain('GET /file/index.html');
  });

  it('Node 26: child processes and Workers used only at start-up are dropped too (apps/express-service)', async () => {
    const dir = copyFixture('apps/express-service');
    const port = nextPort++;
    const r = await runCli(
      [
        '--node',
        nodeBinary(26),
        '--ready-stdout',
        '^listening',
        '--exercise',
        get(`http://127.0.0.1:${port}/health`),
        '--format',
        'drop-plan',
        'server.js',
        '--',
        String(port),
      ],
      { cwd: dir },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const plan = String(r.stdout);
    // (on failure: the plan's kept lines say what was used after start-up, and when)
    expect(dropCalls(plan), `${plan}\n${String(r.stderr)}`).toEqual([
      `drop("fs.read", "${dir}/config")`,
      `drop("fs.read", "${dir}/lib")`,
      `drop("fs.read", "${dir}/node_modules")`,
      `drop("fs.read", "${dir}/package.json")`,
      `drop("fs.write", "${dir}/logs")`,
      'drop("child")',
      'drop("worker")',
      'drop("net")',
    ]);
    expect(plan.split('\n').filter((l) => l.startsWith('// kept: '))).toEqual([]);
    expect(plan, String(r.stderr)).not.toMatch(/NOT VERIFIED/);
    expect(String(r.stderr)).toMatch(/drop plan: \d+ to drop after start-up, \d+ kept, verified/);
  });

  it('is refused on Node 22, which has no drop()', async () => {
    const dir = copyFixture('apps/serve-static');
    const r = await runCli(['--node', nodeBinary(22), '--ready-stdout', '^listening', '--format', 'drop-plan', 'server.js'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/has no process\.permission\.drop\(\)/);
  });
});
