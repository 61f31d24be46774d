// The recorder inside real Node: an addon refused at process.dlopen is reported with its file when
// require() was loading it (24's audit mode, and enforce mode on every line); model/addon-read.ts grants
// that file's read where the build checks it. A process.dlopen the app calls itself is not reported.
import { cpSync, mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync, type StdioOptions } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { nodeBinary } from '@permlearn/test-nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecorderReport } from '../../packages/core/src/model/parse-events.js';
import { createKeys, keyPipeText, tokenVerifier } from '../../packages/core/src/runner/evidence.js';
import { recorderText } from '../../packages/core/src/runner/session.js';
import { root } from '../helpers/e2e.js';

describe('the recorder names the file of a refused addon', () => {
  let dir: string;
  let recorder: string;
  let keyFile: string;
  let addon: string;
  const keys = createKeys();
  const SIGNED = { verify: tokenVerifier(keys.main) };
  const stdio = (): StdioOptions => ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')];

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-addon-')));
    recorder = path.join(dir, 'recorder.cjs');
    writeFileSync(recorder, recorderText({ fd: 3, ownerPid: process.pid, keyFd: 4 }));
    keyFile = path.join(dir, 'key');
    writeFileSync(keyFile, keyPipeText(keys));
    // A real napi-rs build (the fixture's), required the way its loader does, then loaded with a bare dlopen.
    const pkg = path.join(root, 'fixtures', 'apps', 'addon-loader', 'node_modules', '@node-rs', 'bcrypt-linux-x64-gnu');
    cpSync(pkg, path.join(dir, 'pkg'), { recursive: true });
    addon = path.join(dir, 'pkg', 'bcrypt.linux-x64-gnu.node');
    const caught = (call: string) => `try { ${call}; } catch (e) { if (e.code !== 'ERR_DLOPEN_DISABLED') throw e; }\n`;
    writeFileSync(path.join(dir, 'required.js'), caught(`require(${JSON.stringify(addon)})`));
    writeFileSync(path.join(dir, 'dlopen.js'), caught(`process.dlopen({ exports: {} }, ${JSON.stringify(addon)})`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [24, 'pinned', '--permission-audit'],
    [24, 'latest', '--permission-audit'],
    [22, 'latest', '--permission'],
    [26, 'latest', '--permission'],
  ] as const)('Node %i (%s build, %s): the refusal under require() names the file; a bare process.dlopen is not reported', (major, which, mode) => {
    const refusals = (app: string) => {
      const grants = mode === '--permission' ? [`--allow-fs-read=${dir}`] : [];
      const entry = path.join(dir, app);
      const r = spawnSync(nodeBinary(major, which), [mode, ...grants, '--require', recorder, entry], {
        cwd: dir,
        stdio: stdio(),
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const addons = parseRecorderReport((r.output[3] as string | null) ?? '', SIGNED).denials.filter((d) => d.permission === 'Addon');
      return addons.map((d) => [d.source, d.via, d.addonFile, d.site]);
    };
    expect(refusals('required.js')).toEqual([['caught', 'process.dlopen', addon, `${dir}/required.js:1:7`]]);
    // Called by the app itself, the refusal's first frame is the app's: not evidence the recorder reports.
    expect(refusals('dlopen.js')).toEqual([]);
  });
});
