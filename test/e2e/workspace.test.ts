// Several services at once: `--workspace` finds every package with a permlearn config (a
// permlearn.config.json or a "permlearn" field in package.json), learns them in parallel, writes one
// profile each and ends with a table; one failing service does not stop the others.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, runNode, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const SERVICES = ['api', 'report', 'worker'] as const;
const profileOf = (dir: string, s: string) => JSON.parse(readFileSync(path.join(dir, 'services', s, 'permlearn.json'), 'utf8')) as ProfileJson;

describe('services/workspace', () => {
  it('learns three services in parallel, one profile each, and a summary table', async () => {
    const dir = copyFixture('services/workspace');
    const r = await runCli(['--workspace', '--concurrency', '3', '--node', nodeBinary(26)], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const stderr = String(r.stderr);
    expect(stderr).toMatch(/^permlearn learning 3 apps, 3 at a time$/m);
    // Progress lines carry the service's name.
    expect(stderr).toMatch(/^\[worker\] run \d+ {2}verification: exit 0$/m);
    expect(stderr).toMatch(/^app {5}status {4}runs {2}grants {3}time {2}profile$/m);
    for (const s of SERVICES) expect(stderr).toMatch(new RegExp(`^${s} +verified +2 +\\d+ +[\\d.]+ s  services/${s}/permlearn\\.json$`, 'm'));
    expect(stderr).toMatch(/✔ 3 of 3 verified/);
    // The three ran at the same time: the api (a server) started before the others finished.
    const order = stderr
      .split('\n')
      .filter((l) => / learning services\//.test(l) || /verification/.test(l))
      .map((l) => (l.includes('learning') ? 'start' : 'end'));
    expect(order.slice(0, 3)).toEqual(['start', 'start', 'start']);

    expect(profileOf(dir, 'api').flags).toEqual(['--permission', `--allow-fs-read=${dir}/services/api/routes.json`, '--allow-net']);
    expect(profileOf(dir, 'report').flags).toEqual(['--permission', `--allow-fs-read=${dir}/services/report/data.csv`]);
    expect(profileOf(dir, 'worker').flags).toEqual([
      '--permission',
      `--allow-fs-read=${dir}/services/worker/jobs.json`,
      `--allow-fs-write=${dir}/services/worker/out/*`,
    ]);
    const report = await runNode(26, profileOf(dir, 'report').flags, 'report.js', ['data.csv'], path.join(dir, 'services', 'report'));
    expect(String(report.stdout)).toContain('ok: report 2 rows');

    // Profiles are kept unless --force.
    const again = await runCli(['--workspace', '--node', nodeBinary(26)], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(String(again.stderr)).toMatch(/^permlearn: api: services\/api\/permlearn\.json exists; pass --force to learn it again$/m);

    // And the workspace's check passes.
    const check = await runCli(['check', '--workspace', '--node', nodeBinary(26)], { cwd: dir });
    expect(check.exitCode, String(check.stderr)).toBe(0);
    for (const s of SERVICES) expect(String(check.stderr)).toMatch(new RegExp(`^${s} +ok +0 +0  services/${s}/permlearn\\.json$`, 'm'));
  });

  it("a failing service does not stop the others; the exit code is the failure's", async () => {
    const dir = copyFixture('services/workspace');
    writeFileSync(path.join(dir, 'services', 'worker', 'worker.js'), "throw new TypeError('broken worker');\n");
    const r = await runCli(['--workspace', '--concurrency', '2', '--node', nodeBinary(26)], { cwd: dir });
    expect(r.exitCode).toBe(3);
    const stderr = String(r.stderr);
    expect(stderr).toMatch(/^worker +app-failed /m);
    expect(stderr).toMatch(/^api +verified /m);
    expect(stderr).toMatch(/^report +verified /m);
    expect(stderr).toMatch(/✖ 1 of 3 not verified/);
    expect(profileOf(dir, 'api').verified).toBe(true);
    expect(profileOf(dir, 'worker')).toMatchObject({ verified: false, status: 'app-failed' });
  });

  it('several config files named on the command line', async () => {
    const dir = copyFixture('services/workspace');
    const r = await runCli(['--node', nodeBinary(26), 'services/worker/permlearn.config.json', 'services/report/package.json'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(existsSync(path.join(dir, 'services', 'worker', 'permlearn.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'services', 'report', 'permlearn.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'services', 'api', 'permlearn.json'))).toBe(false);
  });
});
