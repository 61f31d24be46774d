// Profiles read back and files written: a tampered or malformed profile stops explain, render, merge
// and check with one line and exit 9 (8 for a grant beyond the breadth rule; nothing written, the app
// never run); no command replaces a file
// without --force, --force keeps the file's mode and never replaces a link or a device, and an output
// that cannot be written is refused before anything is learned.
import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, sharedCopy } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

/** scopes/write-log creates logs/ whenever it runs: its absence says the app was never started (the
 *  commands that learn are given --keep-outputs, since learning otherwise puts the project back). */
const ran = (dir: string) => existsSync(path.join(dir, 'logs'));

/** A copy of scopes/write-log with its profile learned as permlearn.json, and logs/ removed again
 *  (learned once for the file: each call gets that copy as it was right after the learn). */
const learned = sharedCopy(async () => {
  const dir = copyFixture('scopes/write-log');
  const r = await runCli(['--node', nodeBinary(26), '--format', 'json', '--out', 'permlearn.json', '-q', 'index.js'], { cwd: dir });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
  return dir;
});
afterAll(() => learned.dispose());
const learnedCopy = () => learned.get();

/** What a file is now: bytes and mode, or what a link points at. */
function snapshot(file: string): string {
  const st = lstatSync(file);
  if (st.isSymbolicLink()) return `link → ${readlinkSync(file)}`;
  return `${(st.mode & 0o7777).toString(8)} ${readFileSync(file, 'base64')}`;
}

/** One line on stderr, no stack trace, nothing on stdout. */
function oneLine(r: { stderr: unknown; stdout: unknown }): string {
  const err = String(r.stderr).trim();
  expect(err.split('\n'), err).toHaveLength(1);
  expect(err).not.toMatch(/\s+at \S+ \(|internal error/);
  expect(String(r.stdout)).toBe('');
  return err;
}

type Json = Record<string, any>;

describe('a tampered or malformed profile is refused by every reader', () => {
  const tampers: [string, (p: Json) => void, RegExp, number][] = [
    [
      'a flag that hides --allow-fs-read=/',
      (p) => Object.assign(p.grants[0], { scope: 'fs.read', path: '/', kind: 'dir' }),
      /permlearn\.json: grants\[0\]\.flag: "--allow-fs-write=\S+\/logs\/\*" is not what the grant's scope, path and kind render as \("--allow-fs-read=\/"\): edited by hand\?$/,
      9,
    ],
    ['null in denials', (p) => (p.grants[0].denials[1] = null), /permlearn\.json: grants\[0\]\.denials\[1\]: expected object, received null$/, 9],
    ['null in notes', (p) => (p.grants[0].notes[0] = null), /permlearn\.json: grants\[0\]\.notes\[0\]: expected object, received null$/, 9],
    ['null in observed', (p) => (p.observed = [null]), /permlearn\.json: observed\[0\]: expected object, received null$/, 9],
    [
      'a consistent grant of / (flag, path and stored flags all edited)',
      (p) => {
        Object.assign(p.grants[0], { scope: 'fs.read', path: '/', kind: 'dir', flag: '--allow-fs-read=/' });
        p.flags = ['--permission', '--allow-fs-read=/'];
      },
      /^permlearn: (permlearn\.json: )?refusing to render --allow-fs-read=\/: \/ would grant the root directory, that is every file on the machine; if the app really needs it, accept it explicitly with --accept-broad '\/'/,
      8,
    ],
  ];
  const readers: [string, (dir: string) => string[], boolean][] = [
    ['render --out', () => ['render', 'permlearn.json', '--out', 'flags.txt'], false],
    ['merge --out', () => ['merge', 'permlearn.json', 'permlearn.json', '--out', 'flags.txt'], false],
    ['check --write --suggest', () => ['check', '--node', nodeBinary(26), '--keep-outputs', '--write', '--suggest', 'flags.txt', 'index.js'], true],
  ];

  it.each(tampers)(
    '%s: refused by render, merge and check (one line, its exit code), nothing written, the app never run',
    async (_name, tamper, message, code) => {
      const dir = await learnedCopy();
      const p = JSON.parse(readFileSync(path.join(dir, 'permlearn.json'), 'utf8')) as Json;
      tamper(p);
      writeFileSync(path.join(dir, 'permlearn.json'), JSON.stringify(p, null, 2));
      const before = snapshot(path.join(dir, 'permlearn.json'));
      for (const [reader, args] of readers) {
        const r = await runCli(args(dir), { cwd: dir });
        expect(r.exitCode, `${reader}: ${String(r.stderr)}`).toBe(code);
        expect(oneLine(r)).toMatch(message);
        expect(existsSync(path.join(dir, 'flags.txt')), reader).toBe(false);
        expect(snapshot(path.join(dir, 'permlearn.json')), reader).toBe(before);
        expect(ran(dir), reader).toBe(false);
      }
    },
  );

  it.each(tampers.slice(0, 4))('%s: explain stops with exit 9 too', async (_name, tamper, message) => {
    const dir = await learnedCopy();
    const p = JSON.parse(readFileSync(path.join(dir, 'permlearn.json'), 'utf8')) as Json;
    tamper(p);
    writeFileSync(path.join(dir, 'permlearn.json'), JSON.stringify(p));
    const r = await runCli(['explain', 'permlearn.json'], { cwd: dir });
    expect(r.exitCode).toBe(9);
    expect(oneLine(r)).toMatch(message);
  });

  it('explain shows a consistent grant of / and says loudly that it is broader than permlearn grants', async () => {
    const dir = await learnedCopy();
    const p = JSON.parse(readFileSync(path.join(dir, 'permlearn.json'), 'utf8')) as Json;
    tampers[4]![1](p);
    p.grants[0].denials[0].by = 'app\u001b[2K\u001b[1A'; // terminal escapes in the evidence are spelled out, not obeyed
    writeFileSync(path.join(dir, 'permlearn.json'), JSON.stringify(p));
    const r = await runCli(['explain', 'permlearn.json'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const lines = String(r.stdout).split('\n');
    expect(lines.slice(2, 3)).toEqual(['--allow-fs-read=/']);
    expect(lines).toContain(
      '  ✖ broader than permlearn ever grants: / would grant the root directory, that is every file on the machine (render, merge and check refuse this profile)',
    );
    expect(String(r.stdout)).not.toContain('\u001b');
    expect(String(r.stdout)).toContain('asked by app\\u001b[2K\\u001b[1A (index.js:6)');
  });

  it('a file that is not a regular file is refused without waiting on it', async () => {
    const r = await runCli(['explain', '/dev/zero']);
    expect(r.exitCode).toBe(2);
    expect(oneLine(r)).toBe('permlearn: cannot read /dev/zero: not a regular file');
  });
});

describe('no command replaces a file without --force', () => {
  // Each command that writes a file the user names, as argv for an output path.
  const writers: [string, (out: string) => string[], { learns: boolean }][] = [
    ['learn --out', (out) => ['--node', nodeBinary(26), '--keep-outputs', '--format', 'json', '--out', out, 'index.js'], { learns: true }],
    ['check --suggest', (out) => ['check', '--node', nodeBinary(26), '--keep-outputs', '--suggest', out, 'index.js'], { learns: true }],
    ['render --out', (out) => ['render', 'permlearn.json', '--format', 'json', '--out', out], { learns: false }],
    ['merge --out', (out) => ['merge', 'permlearn.json', 'permlearn.json', '--out', out], { learns: false }],
  ];

  it.each(writers)('%s: an existing file is kept (bytes and mode); --force replaces it and keeps its 0600 mode', async (_name, argv, { learns }) => {
    const dir = await learnedCopy();
    const out = path.join(dir, 'out.json');
    writeFileSync(out, 'precious\n');
    chmodSync(out, 0o600);
    const before = snapshot(out);

    const kept = await runCli(argv(out), { cwd: dir });
    expect(kept.exitCode).toBe(2);
    expect(oneLine(kept)).toBe(`permlearn: ${out} already exists; pass --force to overwrite it`);
    expect(snapshot(out)).toBe(before);
    expect(ran(dir)).toBe(false);

    const forced = await runCli([...argv(out), '--force'], { cwd: dir });
    expect(forced.exitCode, String(forced.stderr)).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ permlearn: 1, verified: true });
    expect(statSync(out).mode & 0o7777).toBe(0o600);
    expect(ran(dir)).toBe(learns);
  });

  it.each(writers)('%s: --force never replaces a symbolic link (link and target unchanged) or a device', async (_name, argv) => {
    const dir = await learnedCopy();
    const target = path.join(dir, 'target.txt');
    writeFileSync(target, 'the link points here\n');
    const link = path.join(dir, 'out.json');
    symlinkSync(target, link);
    const [linkBefore, targetBefore] = [snapshot(link), snapshot(target)];

    const r = await runCli([...argv(link), '--force'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(oneLine(r)).toBe(`permlearn: ${link} is a symbolic link: permlearn writes only regular files, even with --force`);
    expect(snapshot(link)).toBe(linkBefore);
    expect(snapshot(target)).toBe(targetBefore);

    const dev = await runCli([...argv('/dev/null'), '--force'], { cwd: dir });
    expect(dev.exitCode).toBe(2);
    expect(oneLine(dev)).toBe('permlearn: /dev/null is a device: permlearn writes only regular files, even with --force');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(ran(dir)).toBe(false);
  });

  it.each(writers.filter(([, , w]) => w.learns))('%s: an output folder that is missing or takes no file fails before the app is run', async (_name, argv) => {
    const dir = await learnedCopy();
    const missing = await runCli(argv(path.join(dir, 'no-such-folder', 'out.json')), { cwd: dir });
    expect(missing.exitCode).toBe(2);
    expect(oneLine(missing)).toBe(`permlearn: cannot write ${dir}/no-such-folder/out.json: the folder ${dir}/no-such-folder does not exist`);
    // /sys takes no new file, even for root (who ignores a folder's mode bits)
    const unwritable = await runCli(argv('/sys/permlearn-out.json'), { cwd: dir });
    expect(unwritable.exitCode).toBe(2);
    expect(oneLine(unwritable)).toBe('permlearn: cannot write /sys/permlearn-out.json: the folder /sys is not writable (EACCES)');
    expect(ran(dir)).toBe(false);
  });

  it('check --write replaces the committed profile it read, keeping its mode; never a link in its place', async () => {
    const dir = await learnedCopy();
    const committed = path.join(dir, 'permlearn.json');
    chmodSync(committed, 0o600);
    // The app now also appends to a second log: the check finds a new need and --write records it.
    writeFileSync(
      path.join(dir, 'index.js'),
      `${readFileSync(path.join(dir, 'index.js'), 'utf8')}fs.writeFileSync(path.join(__dirname, 'second.log'), 'x');\n`,
    );
    const wrote = await runCli(['check', '--node', nodeBinary(26), '--write', 'index.js'], { cwd: dir });
    expect(wrote.exitCode, String(wrote.stderr)).toBe(0);
    expect((JSON.parse(readFileSync(committed, 'utf8')) as Json).flags).toEqual([
      '--permission',
      `--allow-fs-write=${dir}/logs/*`,
      `--allow-fs-write=${dir}/second.log`,
    ]);
    expect(statSync(committed).mode & 0o7777).toBe(0o600);

    rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
    const real = path.join(dir, 'real.json');
    writeFileSync(real, readFileSync(committed));
    rmSync(committed);
    symlinkSync(real, committed);
    const before = snapshot(real);
    const r = await runCli(['check', '--node', nodeBinary(26), '--keep-outputs', '--write', 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(oneLine(r)).toBe(`permlearn: ${committed} is a symbolic link: permlearn writes only regular files`);
    expect(readlinkSync(committed)).toBe(real);
    expect(snapshot(real)).toBe(before);
    expect(ran(dir)).toBe(false);
  });
});

describe('--workspace writes', () => {
  const api = (dir: string, f: string) => path.join(dir, 'services', 'api', f);
  const worker = (dir: string, f: string) => path.join(dir, 'services', 'worker', f);

  it('two configs sharing one profile path are refused before anything is learned', async () => {
    const dir = copyFixture('services/workspace');
    writeFileSync(worker(dir, 'permlearn.config.json'), JSON.stringify({ name: 'worker', entry: 'worker.js', profile: '../api/permlearn.json' }));
    const r = await runCli(['--workspace', '--node', nodeBinary(26)], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(oneLine(r)).toBe(
      'permlearn: services/api/permlearn.config.json and services/worker/permlearn.config.json would both write services/api/permlearn.json: give each app its own "profile" (and "out")',
    );
    expect(existsSync(api(dir, 'permlearn.json'))).toBe(false);
    // the worker writes out/ whenever it runs
    expect(existsSync(worker(dir, 'out'))).toBe(false);
    const check = await runCli(['check', '--workspace', '--write', '--node', nodeBinary(26)], { cwd: dir });
    expect(check.exitCode).toBe(2);
    expect(oneLine(check)).toMatch(/would both write services\/api\/permlearn\.json/);
  });

  it("--force keeps a profile's mode, and refuses a link in a profile's place without learning that app", async () => {
    const dir = copyFixture('services/workspace');
    writeFileSync(api(dir, 'permlearn.json'), '{}\n');
    chmodSync(api(dir, 'permlearn.json'), 0o600);
    const target = path.join(dir, 'elsewhere.json');
    writeFileSync(target, 'not yours\n');
    symlinkSync(target, worker(dir, 'permlearn.json'));
    const r = await runCli(['--workspace', '--force', '--node', nodeBinary(26)], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const stderr = String(r.stderr);
    expect(stderr).toMatch(/^api +verified /m);
    expect(stderr).toMatch(/^worker +error /m);
    expect(stderr).toContain(
      `permlearn: worker: ${worker(dir, 'permlearn.json')} is a symbolic link: permlearn writes only regular files, even with --force\n`,
    );
    expect((JSON.parse(readFileSync(api(dir, 'permlearn.json'), 'utf8')) as Json).verified).toBe(true);
    expect(statSync(api(dir, 'permlearn.json')).mode & 0o7777).toBe(0o600);
    expect(readlinkSync(worker(dir, 'permlearn.json'))).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('not yours\n');
    expect(existsSync(worker(dir, 'out'))).toBe(false);
  });
});
