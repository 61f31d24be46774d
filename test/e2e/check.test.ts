// `permlearn check`: a committed profile against a fresh run of the app. Passing when nothing changed;
// exit 7 with evidence, a Markdown job summary and GitHub annotations when the app needs something new;
// --suggest, --write, --strict, --format json; a profile committed in another checkout.
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli, sharedCopy, type ProfileJson } from '../helpers/e2e.js';

const temps: string[] = [];
afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A copy of services/checked with its profile learned and "committed" as permlearn.json (learned once
 *  per Node line for the file: each call gets that copy as it was right after the learn). */
const learned = new Map<number, ReturnType<typeof sharedCopy>>();
afterAll(() => {
  for (const copy of learned.values()) copy.dispose();
});
function committed(major: number): Promise<string> {
  let copy = learned.get(major);
  if (!copy) {
    copy = sharedCopy(async () => {
      const dir = copyFixture('services/checked');
      const r = await runCli(['--node', nodeBinary(major), '--format', 'json', '--out', 'permlearn.json', '-q'], { cwd: dir });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      return dir;
    });
    learned.set(major, copy);
  }
  return copy.get();
}

/** The pull request: the app now also reads a template. */
function addTemplateRead(dir: string): void {
  appendFileSync(path.join(dir, 'app.js'), "fs.readFileSync(path.join(__dirname, 'templates', 'letter.txt'), 'utf8');\n");
}

function tempFile(name: string): string {
  return path.join(tempDir('pl-check-'), name);
}

describe('permlearn check', () => {
  it.each([26, 22])('passes when the committed profile still verifies and nothing new is needed (Node %i)', async (major) => {
    const dir = await committed(major);
    const before = readFileSync(path.join(dir, 'permlearn.json'), 'utf8');
    const summary = tempFile('summary.md');
    const r = await runCli(['check', '--node', nodeBinary(major)], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true' },
      extendEnv: false,
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/✔ permlearn\.json is up to date: it still starts the app and nothing new is needed/);
    expect(String(r.stderr)).not.toMatch(/^::(error|warning)/m);
    expect(readFileSync(summary, 'utf8')).toMatch(/^### permlearn check: `permlearn\.json`\n\n✅ /);
    // Untouched without --write.
    expect(readFileSync(path.join(dir, 'permlearn.json'), 'utf8')).toBe(before);
  });

  it('fails with exit 7 on a new need: evidence, Markdown summary, annotations; --suggest writes the fresh profile', async () => {
    const dir = await committed(26);
    addTemplateRead(dir);
    const summary = tempFile('summary.md');
    writeFileSync(summary, '# earlier step\n');
    const suggested = path.join(dir, 'permlearn.suggested.json');
    const r = await runCli(['check', '--node', nodeBinary(26), '--suggest', suggested], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: os.homedir(), NO_COLOR: '1', GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir },
      extendEnv: false,
    });
    expect(r.exitCode, String(r.stderr)).toBe(7);
    const stderr = String(r.stderr);
    expect(stderr).toContain('+ --allow-fs-read=./templates/letter.txt\n    ← FileSystemRead ./templates/letter.txt by app (app.js:8)');
    expect(stderr).toMatch(/✖ the app needs 1 grant that permlearn\.json lacks \(exit 7\)/);
    // The annotation points at the line of code that asked.
    expect(stderr).toMatch(
      /^::error file=app\.js,line=8,col=\d+,title=permlearn%3A new permission needed::--allow-fs-read=\.\/templates\/letter\.txt is needed and permlearn\.json lacks it: FileSystemRead \.\/templates\/letter\.txt by app \(app\.js:8\)$/m,
    );

    // Appended to the job summary, after what was there.
    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('# earlier step\n### permlearn check: `permlearn.json`\n\n❌ **the app needs 1 grant that `permlearn.json` lacks**\n')).toBe(true);
    expect(md).toContain(
      '| needed grant | asked for | by | where |\n|---|---|---|---|\n| `--allow-fs-read=./templates/letter.txt` | FileSystemRead `./templates/letter.txt` | app | `app.js:8` |',
    );
    expect(md).toContain('`permlearn check --write`');

    // The proposed profile has the new grant; the committed one is untouched.
    const proposed = JSON.parse(readFileSync(suggested, 'utf8')) as ProfileJson;
    expect(proposed.verified).toBe(true);
    expect(proposed.flags).toEqual(['--permission', `--allow-fs-read=${dir}/config.json`, `--allow-fs-read=${dir}/templates/letter.txt`]);
    expect(readFileSync(path.join(dir, 'permlearn.json'), 'utf8')).not.toContain('letter.txt');
  });

  it('--write rewrites the committed profile (exit 0), after which the check passes', async () => {
    const dir = await committed(26);
    addTemplateRead(dir);
    const r = await runCli(['check', '--node', nodeBinary(26), '--write'], { cwd: dir });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/✔ permlearn\.json rewritten with the fresh profile/);
    expect(readFileSync(path.join(dir, 'permlearn.json'), 'utf8')).toContain('letter.txt');
    const again = await runCli(['check', '--node', nodeBinary(26), '-q'], { cwd: dir });
    expect(again.exitCode, String(again.stderr)).toBe(0);
  });

  it('a grant no longer used is a suggestion (exit 0), a failure with --strict (exit 7); --format json', async () => {
    const dir = await committed(26);
    addTemplateRead(dir);
    const relearned = await runCli(['--node', nodeBinary(26), '--format', 'json', '--out', 'permlearn.json', '--force', '-q'], { cwd: dir });
    expect(relearned.exitCode).toBe(0);
    // The pull request takes the template read out again.
    writeFileSync(
      path.join(dir, 'app.js'),
      readFileSync(path.join(dir, 'app.js'), 'utf8').replace(/fs\.readFileSync\(path\.join\(__dirname, 'templates'.*\n/, ''),
    );

    const loose = await runCli(['check', '--node', nodeBinary(26), '--format', 'json'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: os.homedir(), NO_COLOR: '1', GITHUB_ACTIONS: 'true' },
      extendEnv: false,
    });
    expect(loose.exitCode, String(loose.stderr)).toBe(0);
    const json = JSON.parse(String(loose.stdout)) as {
      status: string;
      exitCode: number;
      added: unknown[];
      unused: { flag: string; grantedFor: { resource: string; by: string }[] }[];
      committedVerified: boolean;
    };
    expect(json).toMatchObject({ status: 'ok', exitCode: 0, added: [], committedVerified: true });
    expect(json.unused).toEqual([
      expect.objectContaining({
        flag: '--allow-fs-read=./templates/letter.txt',
        grantedFor: [expect.objectContaining({ resource: './templates/letter.txt', by: 'app' })],
      }),
    ]);
    expect(String(loose.stderr)).toMatch(/^- --allow-fs-read=\.\/templates\/letter\.txt {2}no longer used/m);
    expect(String(loose.stderr)).toMatch(
      /^::warning file=permlearn\.json,title=permlearn%3A grant no longer used::--allow-fs-read=\.\/templates\/letter\.txt is no longer used/m,
    );

    const strict = await runCli(['check', '--node', nodeBinary(26), '--strict', '-q'], { cwd: dir });
    expect(strict.exitCode).toBe(7);
  });

  it('compares a profile committed in another checkout by its paths inside the project', async () => {
    const dir = await committed(26);
    // The same repository cloned elsewhere, with the profile as committed (absolute paths of the first checkout).
    const other = path.join(tempDir('pl-clone-'), 'checked');
    cpSync(dir, other, { recursive: true });
    expect(readFileSync(path.join(other, 'permlearn.json'), 'utf8')).toContain(dir);
    const r = await runCli(['check', '--node', nodeBinary(26)], { cwd: other });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    addTemplateRead(other);
    const failing = await runCli(['check', '--node', nodeBinary(26), '--format', 'json', '-q'], { cwd: other });
    expect(failing.exitCode).toBe(7);
    const json = JSON.parse(String(failing.stdout)) as { added: { flag: string; grant: string }[] };
    expect(json.added).toEqual([
      expect.objectContaining({ flag: '--allow-fs-read=./templates/letter.txt', grant: `--allow-fs-read=${other}/templates/letter.txt` }),
    ]);
  });

  it('no committed profile: exit 2 saying how to make one', async () => {
    const dir = copyFixture('services/checked');
    const r = await runCli(['check', '--node', nodeBinary(26)], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).trim()).toMatch(
      /^permlearn: no committed profile at permlearn\.json: learn one first \(permlearn --format json --out permlearn\.json\)/,
    );
    expect(existsSync(path.join(dir, 'permlearn.json'))).toBe(false);
  });
});
