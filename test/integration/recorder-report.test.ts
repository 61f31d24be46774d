// The recorder's report parser on what the recorder writes inside real Node (20 and 26): a caught
// denial the app printed, an uncaught one on a relative path, the exit code, and a recorder that
// stays silent in a process it does not own.
import { spawnSync, type StdioOptions } from 'node:child_process';
import { mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeBinary } from '@permlearn/test-nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecorderReport } from '../../packages/core/src/model/parse-events.js';
import { createKeys, keyPipeText, tokenVerifier } from '../../packages/core/src/runner/evidence.js';
import { recorderText } from '../../packages/core/src/runner/session.js';

describe('parseRecorderReport on the recorder running in real Node', () => {
  let dir: string;
  let recorder: string;
  let entry: string;
  let keyFile: string;
  const keys = createKeys();
  const SIGNED = { verify: tokenVerifier(keys.main) };
  /** The recorder reads the run's key from fd 4 (here a file holding it) and closes it. */
  const stdio = (): StdioOptions => ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')];

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-events-')));
    recorder = path.join(dir, 'recorder.cjs');
    writeFileSync(recorder, recorderText({ fd: 3, ownerPid: process.pid, keyFd: 4 }));
    keyFile = path.join(dir, 'key');
    writeFileSync(keyFile, keyPipeText(keys));
    entry = path.join(dir, 'app.js');
    // A caught denial printed by the app, then an uncaught one on a relative path.
    writeFileSync(
      entry,
      ["const fs = require('fs');", "try { fs.readFileSync('/etc/hostname'); } catch (err) { console.error(err); }", "fs.readFileSync('secret.txt');", ''].join(
        '\n',
      ),
    );
    writeFileSync(path.join(dir, 'secret.txt'), 'x');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(major: number) {
    const enable = major === 20 ? '--experimental-permission' : '--permission';
    const grants = [`--allow-fs-read=${recorder}`, ...(major === 20 ? [`--allow-fs-read=${entry}`] : [])];
    const r = spawnSync(nodeBinary(major), [enable, ...grants, '--require', recorder, entry], {
      cwd: dir,
      stdio: stdio(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    return { status: r.status, stderr: r.stderr, fd3: (r.output[3] as string | null) ?? '' };
  }

  it.each([26, 24])("Node %i: the checks the app's own has() publishes are marked asked: 'has', apart from an access of the same path", (major) => {
    const probe = path.join(dir, 'probe.js');
    const target = path.join(dir, 'w.txt');
    writeFileSync(
      probe,
      [
        `const ok = process.permission.has('fs.write', ${JSON.stringify(target)});`,
        `if (ok) throw new Error('granted?');`,
        `try { require('fs').writeFileSync(${JSON.stringify(target)}, 'x'); } catch {}`,
        '',
      ].join('\n'),
    );
    const r = spawnSync(nodeBinary(major), ['--permission', `--allow-fs-read=${recorder}`, `--allow-fs-read=${probe}`, '--require', recorder, probe], {
      cwd: dir,
      stdio: stdio(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const writes = parseRecorderReport((r.output[3] as string | null) ?? '', SIGNED).denials.filter((d) => d.permission === 'FileSystemWrite');
    expect(writes.map((d) => [d.resource, d.source, d.asked, d.site])).toEqual([
      [target, 'channel', 'has', `${probe}:1:31`],
      [target, 'channel', undefined, `${probe}:3:21`],
    ]);
  });

  it.each([20, 22, 24, 26])('Node %i: loaded, the uncaught denial with its resource and cwd, exit 1', (major) => {
    const { status, stderr, fd3 } = run(major);
    expect(status).toBe(1);
    expect(stderr).toContain("resource: 'secret.txt'");
    const report = parseRecorderReport(fd3, SIGNED);
    expect(report.junk).toBe(0);
    expect(report.loaded).toBe(true);
    expect(report.exitCode).toBe(1);
    const uncaught = report.denials.filter((d) => d.source === 'uncaught');
    expect(uncaught).toEqual([
      expect.objectContaining({
        permission: 'FileSystemRead',
        resource: 'secret.txt',
        cwd: dir,
        code: 'ERR_ACCESS_DENIED',
        thread: 'main',
        site: `${entry}:3:4`,
      }),
    ]);
    const logged = report.denials.filter((d) => d.source === 'logged');
    expect(logged).toEqual([expect.objectContaining({ permission: 'FileSystemRead', resource: '/etc/hostname', site: `${entry}:2:10` })]);
    const channel = report.denials.filter((d) => d.source === 'channel');
    if (major >= 24) {
      // The channel also sees a read of the app's folder, before the app's own two reads.
      expect(channel.map((d) => [d.permission, d.resource])).toEqual([
        ['FileSystemRead', dir],
        ['FileSystemRead', '/etc/hostname'],
        ['FileSystemRead', 'secret.txt'],
      ]);
    } else {
      expect(channel).toEqual([]);
    }
  });

  it('the recorder stays silent when its owner is another process', () => {
    const other = path.join(dir, 'other.cjs');
    writeFileSync(other, recorderText({ fd: 3, ownerPid: process.pid + 1_000_000 }));
    const r = spawnSync(nodeBinary(26), ['--permission', `--allow-fs-read=${other}`, '--require', other, entry], {
      cwd: dir,
      stdio: stdio(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(1);
    expect(parseRecorderReport((r.output[3] as string | null) ?? '', SIGNED)).toMatchObject({ loaded: false, denials: [], junk: 0 });
  });

  it('an app that exits cleanly reports exit 0 and no uncaught denial', () => {
    const ok = path.join(dir, 'ok.js');
    writeFileSync(ok, "console.log('hi');\n");
    const r = spawnSync(nodeBinary(26), ['--permission', `--allow-fs-read=${recorder}`, '--require', recorder, ok], {
      cwd: dir,
      stdio: stdio(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(0);
    const report = parseRecorderReport((r.output[3] as string | null) ?? '', SIGNED);
    expect(report).toMatchObject({ loaded: true, exitCode: 0, junk: 0 });
    expect(report.denials.filter((d) => d.source !== 'channel')).toEqual([]);
  });
});
