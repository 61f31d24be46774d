// `permlearn explain`: each grant of a saved profile with the dependency or app file that asked for it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { leftoverProcesses, copyFixture, nodeBinary, removeCopies, runCli, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

describe('permlearn explain', () => {
  it.each([26, 22, 20])('attributes a file loaded by a dependency to that dependency (Node %i)', async (major) => {
    const dir = copyFixture('deps/cjs-app');
    const out = path.join(dir, 'profile.json');
    const learned = await runCli(['--node', nodeBinary(major), '--granularity', 'file', '--format', 'json', '--out', out, 'index.js'], { cwd: dir });
    expect(learned.exitCode, String(learned.stderr)).toBe(0);
    const profile = JSON.parse(readFileSync(out, 'utf8')) as ProfileJson;
    const helper = profile.grants.find((g) => g.path === `${dir}/node_modules/plain/helper.js`);
    expect(helper?.denials[0]).toMatchObject({ by: 'plain@1.0.0' });
    expect(helper?.denials[0]?.at).toMatch(/^plain\.js/);
    const util = profile.grants.find((g) => g.path === `${dir}/lib/util.js`);
    expect(util?.denials[0]).toMatchObject({ by: 'app' });
    expect(util?.denials[0]?.at).toMatch(/^index\.js/);

    const r = await runCli(['explain', out]);
    expect(r.exitCode).toBe(0);
    const text = String(r.stdout);
    expect(text).toMatch(
      new RegExp(`--allow-fs-read=${dir}/node_modules/plain/helper.js\\n  FileSystemRead \\S+helper.js(?: ×\\d+)?  asked by plain@1.0.0 \\(plain\\.js`),
    );
    expect(text).toMatch(/grants by who asked\n\s+\d+ {2}app\n(?:\s+1 {2}Node itself\n)?\s+1 {2}plain@1\.0\.0/);
    // Node 20 checks the entry itself, with no call site outside Node: counted as that, as its line says.
    if (major === 20) expect(text).toMatch(/asked by Node itself[^\n]*\n[\s\S]*grants by who asked[\s\S]*\n\s+1 {2}Node itself\n/);
    expect(text).not.toMatch(/\d+ {2}unknown\n/);
  });

  it('a file that is not a profile: exit 9 with a one-line reason; a missing file: exit 2', async () => {
    const dir = copyFixture('scopes/read-config');
    writeFileSync(path.join(dir, 'flags.txt'), '--permission\n');
    const r = await runCli(['explain', path.join(dir, 'flags.txt')]);
    expect(r.exitCode).toBe(9);
    expect(String(r.stderr).trim()).toMatch(/is not JSON/);
    const missing = await runCli(['explain', path.join(dir, 'nope.json')]);
    expect(missing.exitCode).toBe(2);
    expect(String(missing.stderr)).toMatch(/cannot read .*ENOENT/);
  });
});
