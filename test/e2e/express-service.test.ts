// A real dependency tree (fixtures/apps/express-service: Express 4, Ajv, yaml, semver, 300+ module
// files) that also reads config, creates a log folder, runs a Node child, a Worker and ES modules.
// Learned with the fast strategy of each Node line, then replayed from a fresh copy with real node.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, withServer, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

let nextPort = 47_800 + (process.pid % 100) * 2;

/** The profile the Node 26 learn below printed, for explain to read (it learns one itself if that test did not run). */
let learnedOn26: string | undefined;

describe('apps/express-service', () => {
  it.each([
    [20, 'observe'],
    [22, 'observe'],
    [24, 'audit'],
    [26, 'audit'],
  ])('Node %i learns it with the %s strategy in a handful of runs, and the profile starts it from scratch', async (major, strategy) => {
    const dir = copyFixture('apps/express-service');
    rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
    const port = nextPort++;
    const r = await runCli(['--node', nodeBinary(major), '--ready-stdout', '^listening on', '--format', 'json', 'server.js', '--', String(port)], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    if (major === 26) learnedOn26 = String(r.stdout);
    expect(profile.strategy).toBe(strategy);
    expect(profile.verified).toBe(true);
    // The plain loop needs 300+ runs here; the fast strategies a handful.
    expect(profile.runs).toBeLessThanOrEqual(5);

    const grant = (flag: string) => profile.grants.find((g) => g.flag === flag);
    // A folder the app creates is granted with its contents, so the profile works before it exists.
    expect(grant(`--allow-fs-write=${dir}/logs/*`)).toBeDefined();
    // Who asked: the app's own code for its config, the child and the Worker...
    const config = grant(`--allow-fs-read=${dir}/config`)?.denials.find((d) => d.resource === `${dir}/config/service.yaml`);
    expect(config).toMatchObject({ by: 'app', at: expect.stringMatching(/^server\.js:\d+/) });
    expect(grant('--allow-child-process')?.denials[0]).toMatchObject({ by: 'app', at: expect.stringMatching(/^server\.js:\d+/) });
    expect(grant('--allow-worker')).toBeDefined();
    // (The Worker's own file needs no grant on 22+, where a Worker reads the cwd subtree freely.)
    if (major === 20) expect(grant(`--allow-fs-read=${dir}/lib`)?.denials.some((d) => d.resource.endsWith('digest-worker.js'))).toBe(true);
    expect(grant(`--allow-fs-read=${dir}/lib`)?.denials.some((d) => d.resource === `${dir}/lib/text.mjs`)).toBe(true);
    // ...and a dependency for what it loads itself: Ajv requires fast-deep-equal. The default
    // --granularity grants node_modules as a whole, with every file behind it as evidence.
    const deps = grant(`--allow-fs-read=${dir}/node_modules`);
    expect(deps?.denials.find((d) => d.resource === `${dir}/node_modules/fast-deep-equal/index.js`)).toMatchObject({ by: 'ajv@8.17.1' });
    expect(deps?.denials.length).toBeGreaterThan(300);
    // The app's folders, exactly (measured). Before 24 the observe run also keeps public/, which the
    // Worker reads (22 lets a Worker read the cwd subtree, a leak a profile must not lean on:
    // docs/decisions.md); 20 also grants the child's entry in bin/ (22+ grant a process its own entry) and the app's.
    expect(profile.flags).toEqual([
      major === 20 ? '--experimental-permission' : '--permission',
      ...(major === 20 ? [`--allow-fs-read=${dir}/bin`] : []),
      `--allow-fs-read=${dir}/config`,
      `--allow-fs-read=${dir}/lib`,
      `--allow-fs-read=${dir}/node_modules`,
      `--allow-fs-read=${dir}/package.json`,
      ...(major < 24 ? [`--allow-fs-read=${dir}/public`] : []),
      ...(major === 20 ? [`--allow-fs-read=${dir}/server.js`] : []),
      `--allow-fs-write=${dir}/logs/*`,
      '--allow-child-process',
      '--allow-worker',
      ...(major >= 26 ? ['--allow-net'] : []),
    ]);
    // No grant reaches outside the app folder, and the session's files never show up.
    for (const g of profile.grants) if (g.path) expect(g.path.startsWith(`${dir}/`), g.flag).toBe(true);

    // Replay from a clean state (the log folder gone again) under real node: it serves, and writes its log.
    const fresh = dir;
    rmSync(path.join(fresh, 'logs'), { recursive: true, force: true });
    await withServer(major, profile.flags, 'server.js', [String(port)], fresh, 'listening', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readFileSync(path.join(fresh, 'logs', 'service.log'), 'utf8')).toContain('GET /health');
    });
  });

  it('explain shows who asked for each grant and how often', async () => {
    const dir = copyFixture('apps/express-service');
    rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
    const port = nextPort++;
    const out = path.join(dir, 'profile.json');
    if (learnedOn26 !== undefined) {
      writeFileSync(out, learnedOn26);
    } else {
      const r = await runCli(
        ['--node', nodeBinary(26), '--ready-stdout', '^listening on', '--format', 'json', '--out', out, '-q', 'server.js', '--', String(port)],
        { cwd: dir },
      );
      expect(r.exitCode, String(r.stderr)).toBe(0);
    }
    const e = await runCli(['explain', out], { cwd: dir });
    expect(e.exitCode).toBe(0);
    const text = String(e.stdout);
    expect(text).toMatch(/node_modules\/fast-deep-equal\/index\.js(?: ×\d+)?\s+asked by ajv@8\.17\.1/);
    // The config file is read once per start; the Worker reads each static file.
    expect(text).toMatch(/service\.yaml\s+asked by app \(server\.js:\d+/);
    expect(text).toMatch(/grants by who asked\n(?:.*\n)*\s+\d+\s+express@4\.21\.2/);
  });
});
