// docs/ci.md's GitHub Actions workflow, run here: every `run:` step that calls permlearn is executed as
// written (`npx permlearn …` finds the CLI in node_modules/.bin, as after `npm ci`), under the Node the
// workflow sets up, in a copy of fixtures/services/checked with a committed profile, with the variables
// GitHub sets. Up to date: the step passes. After a change that needs a new grant: it fails with exit 7,
// leaves the suggested profile, a job summary and an annotation.
import { existsSync, mkdirSync, readFileSync, appendFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, cliPath, copyFixture, leftoverProcesses, nodeBinary, removeCopies, root, runCli } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

/** The workflow in docs/ci.md: its Node version and its `run:` commands. */
function workflow(): { node: number; runs: string[] } {
  const doc = readFileSync(path.join(root, 'docs', 'ci.md'), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!yaml) throw new Error('docs/ci.md has no yaml block');
  const node = Number(/node-version:\s*(\d+)/.exec(yaml)?.[1]);
  const runs = [...yaml.matchAll(/^\s*(?:- )?run:\s*(.+)$/gm)].map((m) => m[1]!.trim());
  return { node, runs };
}

describe('docs/ci.md workflow', () => {
  it('runs the documented check on a fixture: passing, then failing on a new need', async () => {
    const { node, runs } = workflow();
    expect([20, 22, 24, 26]).toContain(node);
    const steps = runs.filter((r) => /\bpermlearn\b/.test(r));
    // Every other step is the install, which the copied fixture does not need.
    expect(runs.filter((r) => !steps.includes(r))).toEqual(['npm ci']);
    expect(steps.length).toBeGreaterThan(0);

    const dir = copyFixture('services/checked');
    mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(cliPath, path.join(dir, 'node_modules', '.bin', 'permlearn'));
    // The committed profile, learned under the same Node (recipe step 4).
    const learned = await runCli(['--node', nodeBinary(node), '--format', 'json', '--out', 'permlearn.json', '-q'], { cwd: dir });
    expect(learned.exitCode, String(learned.stderr)).toBe(0);

    const summary = path.join(dir, '..', 'step-summary.md');
    writeFileSync(summary, '');
    const runStep = (script: string) =>
      execa('sh', ['-c', script], {
        cwd: dir,
        reject: false,
        extendEnv: false,
        stdin: 'ignore',
        timeout: 90_000,
        // actions/setup-node puts its node first on PATH; GitHub sets the rest.
        env: { ...baseEnv, PATH: `${path.dirname(nodeBinary(node))}:${baseEnv.PATH}`, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir, GITHUB_STEP_SUMMARY: summary },
      });

    for (const step of steps) {
      const r = await runStep(step);
      expect(r.exitCode, `${step}\n${String(r.stderr)}`).toBe(0);
    }
    expect(readFileSync(summary, 'utf8')).toMatch(/✅/);

    // The pull request.
    appendFileSync(path.join(dir, 'app.js'), "fs.readFileSync(path.join(__dirname, 'templates', 'letter.txt'), 'utf8');\n");
    writeFileSync(summary, '');
    const results = [];
    for (const step of steps) results.push(await runStep(step));
    const failed = results.find((r) => r.exitCode !== 0);
    expect(failed?.exitCode).toBe(7);
    expect(String(failed?.stderr)).toMatch(/^::error file=app\.js,line=8,.*::--allow-fs-read=\.\/templates\/letter\.txt is needed/m);
    expect(readFileSync(summary, 'utf8')).toMatch(/❌ \*\*the app needs 1 grant that `permlearn\.json` lacks\*\*/);
    // What the upload-artifact step keeps.
    const artifact = /path:\s*(\S+)/.exec(readFileSync(path.join(root, 'docs', 'ci.md'), 'utf8'))?.[1];
    expect(artifact).toBeTruthy();
    expect(existsSync(path.join(dir, artifact!))).toBe(true);
    expect(readFileSync(path.join(dir, artifact!), 'utf8')).toContain('letter.txt');
  });
});
