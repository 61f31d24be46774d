// The observe run's recorder in real Node: what an app used under a wide read grant (modules of both
// kinds, fs reads with their counts, child processes, Workers), and counted repeats in audit mode.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';
import { capabilitiesOf, parseNodeVersion } from '../../packages/core/src/model/node-versions.js';
import { createSession, type Session } from '../../packages/core/src/runner/session.js';
import { runApp, type AppSpec } from '../../packages/core/src/runner/run-app.js';

let dir: string;
let session: Session;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-observe-')));
  session = createSession();
  writeFileSync(path.join(dir, 'data.txt'), 'x');
  writeFileSync(path.join(dir, 'worker.js'), "require('worker_threads').parentPort.postMessage(1);\n");
  writeFileSync(path.join(dir, 'util.mjs'), 'export const two = 2;\n');
  writeFileSync(path.join(dir, 'page.mjs'), "import { two } from './util.mjs';\nexport const page = two;\n");
  writeFileSync(
    path.join(dir, 'app.js'),
    [
      "const fs = require('fs');",
      "const { execFileSync } = require('child_process');",
      "const { Worker } = require('worker_threads');",
      "for (let i = 0; i < 3; i++) fs.readFileSync(__dirname + '/data.txt');",
      "fs.existsSync(__dirname + '/nothing-here');",
      "execFileSync('true');",
      "const w = new Worker(__dirname + '/worker.js');",
      "w.once('message', async () => { await import('./page.mjs'); await fs.promises.readFile('data.txt'); });",
      "fs.statSync(__dirname + '/absent.json', { throwIfNoEntry: false });",
      "fs.mkdirSync(__dirname + '/made', { recursive: true });",
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  session.dispose();
});

function spec(major: number): AppSpec {
  return { node: nodeBinary(major), entry: path.join(dir, 'app.js'), args: [], cwd: dir, readiness: {}, maxRunMs: 20_000, graceMs: 1000 };
}

describe('observe recorder', () => {
  it.each([20, 22, 26])('Node %i: modules (CJS and ESM), fs reads with counts, a child process and a Worker', async (major) => {
    const caps = capabilitiesOf(parseNodeVersion(major === 20 ? 'v20.20.2' : major === 22 ? 'v22.23.3' : 'v26.10.0')!);
    const flags = [caps.enableFlag, `--allow-fs-read=${dir}`, `--allow-fs-write=${dir}/made`, '--allow-child-process', '--allow-worker'];
    const esm = caps.inThreadModuleHooks ? {} : { imports: [session.esmRegisterPath], preloadReads: session.esmReadPaths };
    const r = await runApp(spec(major), { flags, recorderPath: session.observerPath, eventsDir: session.eventsDir, keys: session.keys, ...esm });
    expect(r.outcome).toBe('exited');
    expect(r.exitCode).toBe(0);
    const modules = (r.modules ?? []).map((m) => path.relative(dir, m.file));
    expect(modules).toEqual(expect.arrayContaining(['app.js', 'worker.js', 'page.mjs', 'util.mjs']));
    expect(r.modules?.find((m) => m.file.endsWith('util.mjs'))?.from).toBe(path.join(dir, 'page.mjs'));
    // Nothing of permlearn's own session shows up.
    expect([...(r.modules ?? []), ...(r.touched ?? [])].filter((f) => f.file.startsWith(session.dir))).toEqual([]);
    const data = r.touched?.find((t) => t.file === path.join(dir, 'data.txt'));
    expect(data).toMatchObject({ hits: 4, api: 'readFileSync' });
    expect(data?.from).toBe(`${path.join(dir, 'app.js')}:4:32`);
    // A path that does not exist is not something the app read, but a lookup, noted with its call site;
    // a folder it made (with a write grant) is not a read either.
    expect(r.touched?.some((t) => t.file.endsWith('nothing-here') || t.file.endsWith('absent.json') || t.file.endsWith('made'))).toBe(false);
    expect(r.missing).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: path.join(dir, 'nothing-here'), api: 'existsSync', from: `${path.join(dir, 'app.js')}:5:4` }),
        expect.objectContaining({ file: path.join(dir, 'absent.json'), api: 'statSync' }),
      ]),
    );
    expect(r.uses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ scope: 'child', api: 'execFileSync', site: `${path.join(dir, 'app.js')}:6:1`, hits: 1 }),
        expect.objectContaining({ scope: 'worker', hits: 1 }),
      ]),
    );
    expect(r.uses?.filter((u) => u.scope === 'worker')).toHaveLength(1);
  });

  it.each([24, 26])('Node %i audit: each check reported once, with the number of times it was made', async (major) => {
    const app = path.join(dir, `audit-${major}.js`);
    writeFileSync(app, "const fs = require('fs');\nfor (let i = 0; i < 5; i++) fs.readFileSync(__dirname + '/data.txt');\n");
    const r = await runApp(
      { ...spec(major), entry: app },
      { flags: ['--permission-audit'], recorderPath: session.recorderPath, eventsDir: session.eventsDir, keys: session.keys },
    );
    expect(r.exitCode).toBe(0);
    const reads = r.denials.filter((d) => d.resource === path.join(dir, 'data.txt'));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ source: 'channel', permission: 'FileSystemRead', hits: 5, site: `${app}:2:32` });
  });

  it.each([24, 26])("Node %i audit: a folder the app's fs call reads carries no loader mark; the loader's package-scope reads do", async (major) => {
    const app = path.join(dir, `loader-${major}.js`);
    writeFileSync(app, "const fs = require('fs');\nfs.readdirSync(__dirname);\nrequire('./lib-' + process.argv[2] + '/m.js');\n");
    const lib = path.join(dir, `lib-${major}`);
    mkdirSync(lib, { recursive: true });
    writeFileSync(path.join(lib, 'm.js'), 'module.exports = 1;\n');
    const r = await runApp(
      { ...spec(major), entry: app, args: [String(major)] },
      { flags: ['--permission-audit'], recorderPath: session.recorderPath, eventsDir: session.eventsDir, keys: session.keys },
    );
    expect(r.exitCode).toBe(0);
    // Node's loader checks the entry's folder first (its package scope); the app's listing is reported too.
    const listing = r.denials.filter((d) => d.resource === dir && d.loader === undefined);
    expect(listing).toMatchObject([{ source: 'channel', site: `${app}:2:4` }]);
    // Loading lib-N/m.js: Node reads its package scope (lib-N/package.json, or lib-N itself) from the loader.
    const scope = r.denials.filter((d) => d.resource.startsWith(lib) && d.resource !== path.join(lib, 'm.js'));
    expect(scope.length).toBeGreaterThan(0);
    for (const d of scope) expect(d.loader, d.resource).toBe(true);
  });

  // The in-thread hooks (22+) are registered at the first ES module, not at start-up (recorder/esm.cjs):
  // a CommonJS app that require()s one still has that module's static imports reported, with their importer.
  it.each([22, 26])('Node %i: the static imports of an ES module that CommonJS require()s are modules too', async (major) => {
    const app = path.join(dir, `req-esm-${major}`);
    mkdirSync(path.join(app, 'lib'), { recursive: true });
    mkdirSync(path.join(app, 'shared'), { recursive: true });
    writeFileSync(
      path.join(app, 'index.js'),
      "const { n } = require('./lib/detect.js');\nconst { greet } = require('./lib/greet.mjs');\nconsole.log(greet(n));\n",
    );
    writeFileSync(path.join(app, 'lib', 'greet.mjs'), "import { name } from '../shared/name.mjs';\nexport const greet = (n) => name + n;\n");
    writeFileSync(path.join(app, 'shared', 'name.mjs'), "export const name = 'x';\n");
    // No "type" and ES syntax: Node detects its format as it compiles it.
    writeFileSync(path.join(app, 'lib', 'detect.js'), "import { one } from '../shared/one.mjs';\nexport const n = one;\n");
    writeFileSync(path.join(app, 'shared', 'one.mjs'), 'export const one = 1;\n');
    const caps = capabilitiesOf(parseNodeVersion(major === 22 ? 'v22.23.3' : 'v26.10.0')!);
    const r = await runApp(
      { ...spec(major), entry: path.join(app, 'index.js'), cwd: app },
      { flags: [caps.enableFlag, `--allow-fs-read=${dir}`], recorderPath: session.observerPath, eventsDir: session.eventsDir, keys: session.keys },
    );
    expect(r.exitCode).toBe(0);
    const from = (file: string) => r.modules?.find((m) => m.file === path.join(app, file))?.from;
    expect(from('shared/name.mjs')).toBe(path.join(app, 'lib', 'greet.mjs'));
    // A `.js` ES module is not seen ahead (esm.cjs says why): what it imports is still read, so still granted.
    expect([...(r.modules ?? []), ...(r.touched ?? [])].map((f) => f.file)).toContain(path.join(app, 'shared', 'one.mjs'));
  });

  // The hooks go again once that require() returns (a CommonJS require() through them costs), and come
  // back for the next ES module: one more require()d, then an import(), which keeps them.
  it.each([22, 26])('Node %i: ES modules required or imported after the hooks went are still reported with their importer', async (major) => {
    const app = path.join(dir, `req-esm-again-${major}`);
    mkdirSync(path.join(app, 'lib'), { recursive: true });
    mkdirSync(path.join(app, 'shared'), { recursive: true });
    writeFileSync(
      path.join(app, 'index.js'),
      [
        "const a = require('./lib/a.mjs');",
        "const c = require('./lib/c.js');",
        "const b = require('./lib/b.mjs');",
        "import('./lib/d.mjs').then((d) => { require('./lib/e.js'); console.log(a.x + b.x + c + d.x); });",
        '',
      ].join('\n'),
    );
    for (const [name, dep] of [
      ['a', 'one'],
      ['b', 'two'],
      ['d', 'three'],
    ]) {
      writeFileSync(path.join(app, 'lib', `${name}.mjs`), `import { v } from '../shared/${dep}.mjs';\nexport const x = v;\n`);
      writeFileSync(path.join(app, 'shared', `${dep}.mjs`), 'export const v = 1;\n');
    }
    writeFileSync(path.join(app, 'lib', 'c.js'), "module.exports = require('../shared/four.js');\n");
    writeFileSync(path.join(app, 'lib', 'e.js'), "module.exports = require('../shared/four.js');\n");
    writeFileSync(path.join(app, 'shared', 'four.js'), 'module.exports = 1;\n');
    const caps = capabilitiesOf(parseNodeVersion(major === 22 ? 'v22.23.3' : 'v26.10.0')!);
    const r = await runApp(
      { ...spec(major), entry: path.join(app, 'index.js'), cwd: app },
      { flags: [caps.enableFlag, `--allow-fs-read=${dir}`], recorderPath: session.observerPath, eventsDir: session.eventsDir, keys: session.keys },
    );
    expect(r.exitCode, r.stderrTail).toBe(0);
    const from = (file: string) => r.modules?.find((m) => m.file === path.join(app, file))?.from;
    expect(from('shared/one.mjs')).toBe(path.join(app, 'lib', 'a.mjs'));
    expect(from('shared/two.mjs')).toBe(path.join(app, 'lib', 'b.mjs'));
    expect(from('shared/three.mjs')).toBe(path.join(app, 'lib', 'd.mjs'));
    expect(from('shared/four.js')).toBe(path.join(app, 'lib', 'c.js'));
    expect(from('lib/e.js')).toBe(path.join(app, 'index.js'));
  });
});
