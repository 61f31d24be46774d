// What permlearn does when the app cannot be learned, and with bad input: exit codes and messages.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { leftoverProcesses, processesMentioning, copyFixture, nodeBinary, removeCopies, root, runCli, sessionsOf, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

describe('apps that cannot be learned', () => {
  it.each([26, 22])('a non-permission failure exits 3 and shows the app stderr (Node %i)', async (major) => {
    const dir = copyFixture('failing/not-permission');
    const r = await runCli(['--node', nodeBinary(major), 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(String(r.stdout)).toBe('');
    expect(String(r.stderr)).toMatch(/exited with code 1 without a permission denial/);
    expect(String(r.stderr)).toMatch(/TypeError/);
  });

  it.each([26, 22])('printed denial text is never taken for a denial (Node %i)', async (major) => {
    const dir = copyFixture('failing/fake-denial');
    const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(false);
    expect(profile.grants).toEqual([]);
    expect(profile.flags.join(' ')).not.toContain('/etc/shadow');
  });

  it('a hung app exits 3 after --max-run-time, and counts as started with --timeout', async () => {
    const dir = copyFixture('failing/hangs');
    const hung = await runCli(['--node', nodeBinary(26), '--max-run-time', '1.5', 'index.js'], { cwd: dir });
    expect(hung.exitCode).toBe(3);
    expect(String(hung.stderr)).toMatch(/neither exited nor became ready/);
    const alive = await runCli(['--node', nodeBinary(26), '--timeout', '1', 'index.js'], { cwd: dir });
    expect(alive.exitCode).toBe(0);
    expect(String(alive.stdout).trim()).toBe('--permission');
  });

  it.each([26, 22, 20])('fsync cannot be granted: exit 6 with the reason (Node %i)', async (major) => {
    const dir = copyFixture('ungrantable/fsync');
    const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(6);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.ungrantable[0]?.code).toBe('fd-sync-api');
    expect(String(r.stderr)).toMatch(/fsync\(\) is always disabled/);
  });

  it('--max-runs stops a long learn with exit 4', async () => {
    const dir = copyFixture('deps/cjs-app');
    const r = await runCli(['--node', nodeBinary(26), '--strategy', 'rerun', '--granularity', 'file', '--max-runs', '2', 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(4);
    expect(String(r.stderr)).toMatch(/stopped after 2 runs/);
    expect(String(r.stdout)).toBe('');
  });

  it('Ctrl-C stops permlearn and every process of the app', async () => {
    const dir = copyFixture('failing/hangs');
    const cli = runCli(['--node', nodeBinary(26), '--max-run-time', '60', 'index.js'], { cwd: dir });
    for (let i = 0; i < 100 && processesMentioning(path.join(dir, 'index.js')).length === 0; i++) await sleep(50);
    expect(processesMentioning(path.join(dir, 'index.js')).length).toBeGreaterThan(0);
    // Its session folder (the recorder) is there while it runs ...
    expect(sessionsOf(cli.pid)).toHaveLength(1);
    cli.kill('SIGINT');
    const r = await cli;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr)).toMatch(/interrupted/);
    // ... and gone with it.
    expect(sessionsOf(cli.pid)).toEqual([]);
  });
});

describe('bad input', () => {
  it('no entry: usage error, exit 2, one line, no stack', async () => {
    const r = await runCli([]);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).trim().split('\n')).toHaveLength(1);
    expect(String(r.stderr)).toMatch(/missing <entry>/);
  });

  it.each([
    [['--node', '/bin/true', 'x.js'], /not a usable Node.js binary/],
    [['--node', '/no/such/node', 'x.js'], /not a usable Node.js binary/],
    [['--bogus', 'x.js'], /^permlearn: unknown option --bogus \(see --help\)$/],
    [['--ready-port', '99999', 'x.js'], /--ready-port must be a whole number from 1 to 65535, got '99999'/],
    [['--ready-stdout', '(', 'x.js'], /not a valid regular expression/],
    [['--ready-url', 'nope', 'x.js'], /not a URL/],
    [['--max-runs', '0', 'x.js'], /--max-runs must be a whole number from 1 to 100000, got '0'/],
  ])('%j → exit 2', async (args, message) => {
    const dir = copyFixture('scopes/read-config');
    writeFileSync(path.join(dir, 'x.js'), '');
    const r = await runCli(args, { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(message);
    expect(String(r.stderr)).not.toMatch(/\n\s+at /);
  });

  it('a missing entry file is a usage error', async () => {
    const r = await runCli(['--node', nodeBinary(26), 'nope.js'], { cwd: copyFixture('scopes/read-config') });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/entry file .*nope\.js does not exist/);
  });

  it('--out writes the profile atomically and never clobbers without --force', async () => {
    const dir = copyFixture('scopes/read-config');
    const out = path.join(dir, 'profile.json');
    const first = await runCli(['--node', nodeBinary(26), '--format', 'json', '--out', out, 'index.js'], { cwd: dir });
    expect(first.exitCode).toBe(0);
    expect(String(first.stdout)).toBe('');
    expect((JSON.parse(readFileSync(out, 'utf8')) as ProfileJson).verified).toBe(true);

    writeFileSync(out, 'precious');
    const again = await runCli(['--node', nodeBinary(26), '--out', out, 'index.js'], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(String(again.stderr)).toMatch(/already exists; pass --force/);
    expect(readFileSync(out, 'utf8')).toBe('precious');

    const forced = await runCli(['--node', nodeBinary(26), '--out', out, '--force', 'index.js'], { cwd: dir });
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`--permission --allow-fs-read=${dir}/config.json\n`);
    // No temporary file left beside it: the folder holds the app's files and the profile, nothing else.
    expect(readdirSync(dir).sort()).toEqual([...readdirSync(path.join(root, 'fixtures', 'scopes/read-config')), 'profile.json'].sort());
  });

  it('--ready-port already taken before the app starts is refused', async () => {
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const dir = copyFixture('scopes/http-server');
      const r = await runCli(['--node', nodeBinary(26), '--ready-port', String(port), 'server.js'], { cwd: dir });
      expect(r.exitCode).toBe(2);
      expect(String(r.stderr)).toMatch(/already accepts connections/);
    } finally {
      server.close();
    }
  });

  it('--help prints usage on stdout and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/--ready-port/);
  });
});
