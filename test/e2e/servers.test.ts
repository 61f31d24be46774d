// Long-running apps: readiness by port, URL and stdout; the network scope on 26 (unrestricted before).
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  leftoverProcesses,
  processesMentioning,
  copyFixture,
  nodeBinary,
  removeCopies,
  runCli,
  runNode,
  withServer,
  type ProfileJson,
} from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

let nextPort = 47_400 + (process.pid % 200) * 2;

describe('scopes/http-server', () => {
  it.each([
    [26, 'port'],
    [22, 'port'],
    [26, 'url'],
    [24, 'stdout'],
  ])('learns a verified profile on Node %i with readiness by %s', async (major, by) => {
    const dir = copyFixture('scopes/http-server');
    const port = nextPort++;
    const ready =
      by === 'port' ? ['--ready-port', String(port)] : by === 'url' ? ['--ready-url', `http://127.0.0.1:${port}/`] : ['--ready-stdout', '^listening on \\d+'];
    const r = await runCli(['--node', nodeBinary(major), ...ready, '--format', 'json', 'server.js', '--', String(port)], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(true);
    // The app's static folder (the default --granularity widens the app's files to their folders);
    // listening is a network permission only on 26.
    expect(profile.flags).toEqual(['--permission', `--allow-fs-read=${dir}/public`, ...(major >= 26 ? ['--allow-net'] : [])]);

    // Real node with the flags serves the page.
    await withServer(major, profile.flags, 'server.js', [String(port)], dir, 'listening', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<');
    });
  });
});

describe('scopes/net-client', () => {
  async function pongServer(): Promise<net.Server> {
    const server = net.createServer((s) => s.on('data', () => s.end('pong')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  it.each([26, 22])('grants the network only where Node restricts it (Node %i)', async (major) => {
    const server = await pongServer();
    try {
      const port = String((server.address() as net.AddressInfo).port);
      const dir = copyFixture('scopes/net-client');
      const r = await runCli(['--node', nodeBinary(major), '--format', 'json', 'client.js', '--', port], { cwd: dir });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const profile = JSON.parse(String(r.stdout)) as ProfileJson;
      expect(profile.flags).toEqual(['--permission', ...(major >= 26 ? ['--allow-net'] : [])]);
      if (major >= 26) {
        const grant = profile.grants.find((g) => g.scope === 'net');
        expect(grant?.denials[0]).toMatchObject({ permission: 'Net', resource: '127.0.0.1' });
      } else {
        expect(profile.flags).toEqual(['--permission']);
      }
      const run = await runNode(major, profile.flags, 'client.js', [port], dir);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toContain('pong');
    } finally {
      server.close();
    }
  });
});

describe('lifecycle/stubborn', () => {
  it.each([26, 22])('an app and a detached child that ignore SIGTERM are killed after --grace (Node %i)', async (major) => {
    const dir = copyFixture('lifecycle/stubborn');
    const r = await runCli([
      '--node',
      nodeBinary(major),
      '--cwd',
      dir,
      '--ready-stdout',
      '^ready',
      '--grace',
      '0.5',
      '--format',
      'json',
      path.join(dir, 'index.js'),
    ]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.flags).toEqual(['--permission', '--allow-child-process']);
    expect(processesMentioning('stubborn-child').filter((p) => !p.includes('vitest'))).toEqual([]);
  });
});
