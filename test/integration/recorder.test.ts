// The recorder inside real Node processes: it reports caught denials on every version and leaves
// the app's output and its view of the fs module unchanged.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';
import { parseRecorderReport } from '../../packages/core/src/model/parse-events.js';
import { createKeys, keyPipeText, tokenVerifier } from '../../packages/core/src/runner/evidence.js';
import { recorderText } from '../../packages/core/src/runner/session.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pl-recorder-'));
const recorder = path.join(dir, 'recorder.cjs');
writeFileSync(recorder, recorderText({ fd: 3, keyFd: 4, ownerPid: process.pid }));
// The recorder reads the run's key from fd 4 (a file holding it here; a pipe under permlearn).
const keys = createKeys();
const keyFile = path.join(dir, 'key');
writeFileSync(keyFile, keyPipeText(keys));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(major: number, entry: string, flags: string[], withRecorder: boolean) {
  const preload = withRecorder ? [`--allow-fs-read=${recorder}`, '--require', recorder] : [];
  const r = spawnSync(nodeBinary(major), [...flags, ...preload, entry], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', openSync(keyFile, 'r')],
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, report: parseRecorderReport(String(r.output[3] ?? ''), { verify: tokenVerifier(keys.main) }) };
}

const enable = (major: number) => (major === 20 ? '--experimental-permission' : '--permission');

describe('recorder', () => {
  it.each([20, 22, 24, 26])('reports a denial the app catches in a callback, a promise and a sync call (Node %i)', (major) => {
    const entry = path.join(dir, `caught-${major}.js`);
    writeFileSync(
      entry,
      `const fs = require('fs');
fs.readFile('/etc/hostname', (err) => { if (!err) process.exit(3); });
fs.promises.readFile('/etc/passwd').catch(() => {});
try { fs.statSync('/etc/hosts'); } catch {}
`,
    );
    const grants = major === 20 ? [`--allow-fs-read=${entry}`] : [];
    const r = run(major, entry, [enable(major), ...grants], true);
    expect(r.status).toBe(0);
    const seen = r.report.denials.filter((d) => d.source === (major >= 24 ? 'channel' : 'caught')).map((d) => `${d.permission} ${d.resource}`);
    // The order of the three is the order the callbacks ran in, not a contract. On 24+ the permission
    // channel also sees a read of the app's folder (measured on the pinned binaries).
    const expected = ['/etc/hostname', '/etc/hosts', '/etc/passwd', ...(major >= 24 ? [dir] : [])].map((p) => `FileSystemRead ${p}`);
    expect(seen.sort()).toEqual(expected.sort());
    for (const d of r.report.denials.filter((x) => x.resource.startsWith('/etc/'))) expect(d.site).toContain(entry);
  });

  it.each([20, 22, 26])('changes nothing the app can see of fs or of its own output (Node %i)', (major) => {
    const entry = path.join(dir, `shape-${major}.js`);
    writeFileSync(
      entry,
      `const fs = require('fs'); const util = require('util');
const facts = {
  name: fs.readFileSync.name,
  native: typeof fs.realpathSync.native,
  existsCustom: typeof fs.exists[util.promisify.custom],
  readCustom: typeof fs.read[util.promisify.custom],
  keys: Object.keys(fs).length,
  promiseKeys: Object.keys(fs.promises).length,
};
util.promisify(fs.exists)(__filename).then((exists) => {
  console.log(JSON.stringify({ ...facts, exists }));
  console.error('to stderr');
});
`,
    );
    const flags = [enable(major), ...(major === 20 ? [`--allow-fs-read=${entry}`] : [])];
    const without = run(major, entry, flags, false);
    const withRec = run(major, entry, flags, true);
    expect(withRec.status).toBe(0);
    expect(withRec.stdout).toBe(without.stdout);
    const noPid = (text: string) => text.replace(/\(node:\d+\)/g, '(node:PID)');
    expect(noPid(withRec.stderr)).toBe(noPid(without.stderr));
    expect(JSON.parse(withRec.stdout)).toMatchObject({ name: 'readFileSync', native: 'function', existsCustom: 'function', exists: true });
  });

  // No call measured on 20-26 throws a file-system denial without a resource through the public fs API
  // (docs/node-versions.md), but a native realpath has been seen to: the stand-in below is such an
  // error, made in Node's own code (process.binding's refusal) with the file-system check's message.
  it.each([22, 24, 26])('names a resource-less denial by the path argument of the fs call it came out of, and says so (Node %i)', (major) => {
    const before = path.join(dir, `resourceless-${major}.cjs`);
    writeFileSync(
      before,
      `const fs = require('fs');
const native = fs.realpathSync.native;
fs.realpathSync.native = function (p, o) {
  if (String(p).startsWith('/srv/resourceless')) {
    try { process.binding('fs'); } catch (err) { err.message = 'Access to this API has been restricted. Use --allow-fs-read to manage permissions.'; throw err; }
  }
  return native(p, o);
};
`,
    );
    const entry = path.join(dir, `resourceless-app-${major}.js`);
    writeFileSync(
      entry,
      `const fs = require('fs');
try { fs.realpathSync.native('/srv/resourceless/lib.js'); } catch {}
try { fs.fsyncSync(1); } catch {}
try { fs.realpathSync('/srv/other', { get encoding() { process.binding('fs'); return 'utf8'; } }); } catch {}
`,
    );
    const r = run(major, entry, [enable(major), `--allow-fs-read=${before}`, '--require', before], true);
    expect(r.status).toBe(0);
    const named = r.report.denials.filter((d) => d.resourceFrom === 'argument').map((d) => [d.permission, d.resource, d.source]);
    expect(named).toEqual([['FileSystemRead', '/srv/resourceless/lib.js', 'caught']]);
    // fsync's refusal (an fd, and no flag lifts it) and process.binding's own message keep their empty resource.
    expect(r.report.denials.some((d) => d.resource === '/srv/other')).toBe(false);
  });

  it.each([22, 24, 26])('reports a folder the app lists after a stat of it, which the channel names by the stat (Node %i)', (major) => {
    const listedDir = path.join(dir, `listed-${major}`);
    const entry = path.join(dir, `list-${major}.js`);
    writeFileSync(
      entry,
      `const fs = require('fs');
fs.mkdirSync(${JSON.stringify(listedDir)}, { recursive: true });
fs.statSync(${JSON.stringify(listedDir)});
fs.readdirSync(${JSON.stringify(listedDir)});
fs.promises.readdir(${JSON.stringify(listedDir)}).then(() => fs.opendirSync(${JSON.stringify(dir)}).closeSync());
`,
    );
    const r = run(major, entry, major >= 24 ? ['--permission-audit'] : ['--permission', '--allow-fs-read=*', '--allow-fs-write=*'], true);
    expect(r.status, r.stderr).toBe(0);
    expect(r.report.listed).toEqual([listedDir, dir]);
    if (major >= 24) {
      // The channel's one report of the folder is the stat's: the listing would go unseen without its own line.
      const own = r.report.denials.filter((d) => d.resource === listedDir && d.permission === 'FileSystemRead');
      expect(own.map((d) => d.call)).toEqual(['statSync']);
    }
  });
});
