#!/usr/bin/env node
// `npm run demo`: set up, then learn the profile of a bundled fixture under the bundled Node 26.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { root, setup } from './setup.mjs';

setup();
const { nodeBinary } = await import('@permlearn/test-nodes');
const fixture = path.join(root, 'fixtures', 'scopes', 'http-server');
const cli = path.join(root, 'packages', 'cli', 'bin', 'permlearn.js');
// Once the server is ready, one request for its page (with the Node running this script), so that what
// serving it needs is learned too.
const get = `${JSON.stringify(process.execPath)} -e "fetch('http://127.0.0.1:47123/').then((r) => process.exit(r.ok ? 0 : 1))"`;
const args = [cli, '--node', nodeBinary(26), '--cwd', fixture, '--ready-port', '47123', '--exercise', get, path.join(fixture, 'server.js'), '--', '47123'];
console.error(
  `\n$ permlearn --node <Node 26> --cwd fixtures/scopes/http-server --ready-port 47123 --exercise '<GET http://127.0.0.1:47123/>' server.js -- 47123\n`,
);
try {
  execFileSync(process.execPath, args, { stdio: 'inherit' });
} catch (err) {
  process.exitCode = err.status ?? 1;
}
