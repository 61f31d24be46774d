// permlearn's own grants in a learning run (the recorder, its events folder, the child canary) live in a
// session folder under $TMPDIR. When the app is granted a folder that holds them ($TMPDIR itself, accepted
// as broad), Node would deny that folder itself if they were stored before it (the radix quirk), so the
// app would be "denied again although granted". Learned and verified on every line, exact flags asserted.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, copyFixture, leftoverProcesses, nodeBinary, removeCopies, root, runCli, runNode, type ProfileJson } from '../helpers/e2e.js';

const tmps: string[] = [];
afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
  for (const t of tmps.splice(0)) rmSync(t, { recursive: true, force: true });
});

describe("an app granted the folder that holds permlearn's session", () => {
  it.each([26, 24, 22, 20])('reads-tmpdir on Node %i: $TMPDIR accepted as broad is learned and verified', async (major) => {
    const dir = copyFixture('quirks/reads-tmpdir');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pl-own-'));
    tmps.push(tmp);
    const env = { ...baseEnv, TMPDIR: tmp };
    const r = await runCli(['--node', nodeBinary(major), '--accept-broad', tmp, '--format', 'json', 'index.js'], { cwd: dir, env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    expect(profile.verified).toBe(true);
    expect(profile.flags).toEqual([
      major === 20 ? '--experimental-permission' : '--permission',
      ...(major === 20 ? [`--allow-fs-read=${dir}/index.js`] : []),
      `--allow-fs-read=${tmp}`,
      `--allow-fs-write=${tmp}/reads-tmpdir-cache/*`,
    ]);

    // A pristine copy, the same (emptied) $TMPDIR, exactly the printed flags.
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'fixtures', 'quirks/reads-tmpdir'), dir, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const run = await runNode(major, profile.flags, 'index.js', [], dir, { env });
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toMatch(/^ok: cache in pl-own-/m);
  });
});
