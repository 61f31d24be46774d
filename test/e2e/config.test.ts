// permlearn.config.json and package.json "permlearn": learning with no arguments, flags overriding the
// file, and a bad config as a one-line usage error.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, runNode, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

describe('services/only-config', () => {
  it.each([26, 22])('`permlearn` with no arguments learns what the config says (Node %i)', async (major) => {
    const dir = copyFixture('services/only-config');
    // Only the Node binary comes from outside: the config holds the entry, its arguments, the granularity and the format.
    const r = await runCli(['--node', nodeBinary(major)], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile).toMatchObject({ verified: true, entry: `${dir}/app.js`, args: ['greeting.txt'], granularity: 'file' });
    expect(profile.flags).toEqual(['--permission', `--allow-fs-read=${dir}/greeting.txt`]);
    const run = await runNode(major, profile.flags, 'app.js', ['greeting.txt'], dir);
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toContain('ok: only-config hello from the config');
  });

  it('flags override the file', async () => {
    const dir = copyFixture('services/only-config');
    writeFileSync(path.join(dir, 'other.txt'), 'other\n');
    // --format flags instead of the config's json; the entry's own arguments instead of the config's.
    const r = await runCli(['--node', nodeBinary(26), '--format', 'flags', '-q', 'app.js', 'other.txt'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toBe(`--permission --allow-fs-read=${dir}/other.txt`);
  });

  it('a config named with --config works from another folder; its paths are relative to its own folder', async () => {
    const dir = copyFixture('services/only-config');
    const r = await runCli(['--node', nodeBinary(26), '--config', path.join(dir, 'permlearn.config.json'), '-q'], { cwd: path.dirname(dir) });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect((JSON.parse(String(r.stdout)) as ProfileJson).cwd).toBe(dir);
  });

  it('a "permlearn" field in package.json is a config too', async () => {
    const dir = copyFixture('services/only-config');
    const config = JSON.parse(readFileSync(path.join(dir, 'permlearn.config.json'), 'utf8')) as Record<string, unknown>;
    const pkgFile = path.join(dir, 'package.json');
    writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(readFileSync(pkgFile, 'utf8')), permlearn: { ...config, format: 'args' } }));
    rmSync(path.join(dir, 'permlearn.config.json'));
    const r = await runCli(['--node', nodeBinary(26), '-q'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toBe(`--permission\n--allow-fs-read=${dir}/greeting.txt`);
  });

  it.each([
    ['{"entry": "app.js", "readines": {"port": 3000}}', /^permlearn: permlearn\.config\.json: unknown key "readines" \(did you mean "readiness"\?\)$/],
    ['{"entry": "app.js", "args": "greeting.txt"}', /^permlearn: permlearn\.config\.json: "args" must be an array of strings, got string "greeting.txt"$/],
    [
      '{"entry": "app.js", "readiness": {"port": "3000"}}',
      /^permlearn: permlearn\.config\.json: "readiness\.port" must be a whole number from 1 to 65535, got string "3000"/,
    ],
    ['{"entry": "app.js",}', /^permlearn: permlearn\.config\.json is not valid JSON/],
  ])('%s → exit 2, one line naming the key', async (text, message) => {
    const dir = copyFixture('services/only-config');
    writeFileSync(path.join(dir, 'permlearn.config.json'), text);
    const r = await runCli(['--node', nodeBinary(26)], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).trim()).toMatch(message);
    expect(String(r.stderr).trim().split('\n')).toHaveLength(1);
  });
});
