// docs/ci.md's GitHub Actions workflow and the action it uses (action.yml), run here as the runner would:
// the workflow's settings are checked (least privilege, current action majors, a dependency cache), and
// the action's steps run in order under bash with their inputs, `env:`, `if:` conditions, step outputs
// ($GITHUB_OUTPUT) and the variables GitHub sets, in a copy of fixtures/services/checked with a
// committed profile (`npm ci` is skipped: the copy needs no install; `permlearn` is in node_modules/.bin
// as after it). Up to date: the job passes. After a change that needs a new grant: the check step fails
// with exit 7, leaves the suggested profile for the upload step, a job summary and an annotation.
import { mkdirSync, mkdtempSync, readFileSync, appendFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, cliPath, copyFixture, leftoverProcesses, nodeBinary, removeCopies, root, runCli } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

/** The majors current when this was written (each checked against the action's releases). */
const CURRENT_MAJORS: Record<string, string> = { 'actions/checkout': 'v6', 'actions/setup-node': 'v6', 'actions/upload-artifact': 'v7' };
const OUR_ACTION = /^permlearn\/permlearn@v\d+$/;

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  'working-directory'?: string;
}

function workflow() {
  const doc = readFileSync(path.join(root, 'docs', 'ci.md'), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!yaml) throw new Error('docs/ci.md has no yaml block');
  return parse(yaml) as { permissions?: Record<string, string>; jobs: Record<string, { permissions?: unknown; steps: Step[] }> };
}

const action = parse(readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
};

/** The `uses:` of a workflow or the action, pinned to the current major. */
function expectCurrent(uses: string) {
  const [name, ref] = uses.split('@');
  expect(CURRENT_MAJORS[name!], `${uses}: an action this test does not know`).toBeDefined();
  expect(ref, uses).toBe(CURRENT_MAJORS[name!]);
}

describe('the workflow and the action', () => {
  it('least privilege, current majors, a dependency cache, one composite action', () => {
    const wf = workflow();
    expect(wf.permissions).toEqual({ contents: 'read' });
    const [job] = Object.values(wf.jobs);
    expect(job!.permissions).toBeUndefined();
    for (const step of job!.steps) if (step.uses && !OUR_ACTION.test(step.uses)) expectCurrent(step.uses);
    expect(job!.steps.find((s) => s.uses?.startsWith('actions/checkout@'))?.with).toEqual({ 'persist-credentials': false });
    expect(job!.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.cache).toBe('npm');
    expect(job!.steps.filter((s) => s.uses && OUR_ACTION.test(s.uses))).toHaveLength(1);
    expect(action.runs.using).toBe('composite');
    for (const step of action.runs.steps) if (step.uses) expectCurrent(step.uses);
    // An input never lands in a script's text, where it could inject commands: only in env.
    for (const step of action.runs.steps) expect(step.run ?? '', step.name).not.toMatch(/\$\{\{/);
  });
});

/** Runs the action's steps as the runner does; `uses:` steps are recorded (with their inputs), not run. */
async function runAction(given: Record<string, string>, workspace: string, env: Record<string, string>) {
  const inputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(action.inputs)) inputs[k] = String(given[k] ?? v.default ?? '');
  const outputs: Record<string, Record<string, string>> = {};
  const expr = (text: string) =>
    text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, e: string) => {
      let m = /^inputs\.([\w-]+)$/.exec(e);
      if (m) return inputs[m[1]!] ?? '';
      m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e);
      if (m) return outputs[m[1]!]?.[m[2]!] ?? '';
      throw new Error(`an expression this test cannot evaluate: ${e}`);
    });
  let failed = false;
  const condition = (cond: string) =>
    cond.split('&&').every((term) => {
      const t = term.trim();
      if (t === 'success()') return !failed;
      if (t === 'failure()') return failed;
      if (t === 'always()') return true;
      const m = /^inputs\.([\w-]+) != ''$/.exec(t);
      if (m) return inputs[m[1]!] !== '';
      throw new Error(`a condition this test cannot evaluate: ${t}`);
    });
  const results: { step: Step; exitCode?: number; stdout?: string; stderr?: string; with?: Record<string, string> }[] = [];
  const runnerTemp = mkdtempSync(path.join(os.tmpdir(), 'pl-runner-'));
  for (const step of action.runs.steps) {
    if (!condition(step.if ?? 'success()')) continue;
    if (step.uses) {
      results.push({ step, with: Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expr(String(v))])) });
      continue;
    }
    expect(step.shell).toBe('bash');
    const outputFile = path.join(runnerTemp, `output-${results.length}`);
    writeFileSync(outputFile, '');
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(v)]));
    const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {
      cwd: path.resolve(workspace, expr(step['working-directory'] ?? '.')),
      reject: false,
      extendEnv: false,
      stdin: 'ignore',
      timeout: 90_000,
      env: { ...env, ...stepEnv, GITHUB_OUTPUT: outputFile, RUNNER_TEMP: runnerTemp },
    });
    if (step.id)
      outputs[step.id] = Object.fromEntries(
        readFileSync(outputFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    results.push({ step, exitCode: r.exitCode!, stdout: String(r.stdout), stderr: String(r.stderr) });
    if (r.exitCode !== 0) failed = true;
  }
  const out = Object.fromEntries(Object.entries(action.outputs).map(([k, v]) => [k, expr(v.value)]));
  return { results, failed, outputs: out };
}

describe('docs/ci.md workflow', () => {
  it('runs the documented check through the action on a fixture: passing, then failing on a new need', async () => {
    const wf = workflow();
    const [job] = Object.values(wf.jobs);
    const node = Number(job!.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']);
    expect([20, 22, 24, 26]).toContain(node);
    // Every `run:` step is the install, which the copied fixture does not need.
    expect(job!.steps.filter((s) => s.run).map((s) => s.run)).toEqual(['npm ci']);
    const given = Object.fromEntries(Object.entries(job!.steps.find((s) => s.uses && OUR_ACTION.test(s.uses))!.with ?? {}).map(([k, v]) => [k, String(v)]));
    for (const k of Object.keys(given)) expect(Object.keys(action.inputs)).toContain(k);

    const dir = copyFixture('services/checked');
    mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(cliPath, path.join(dir, 'node_modules', '.bin', 'permlearn'));
    // The committed profile, learned under the same Node (recipe step 4).
    const learned = await runCli(['--node', nodeBinary(node), '--format', 'json', '--out', 'permlearn.json', '-q'], { cwd: dir });
    expect(learned.exitCode, String(learned.stderr)).toBe(0);

    const summary = path.join(dir, '..', 'step-summary.md');
    writeFileSync(summary, '');
    // actions/setup-node puts its node first on PATH; GitHub sets the rest.
    const env = {
      ...baseEnv,
      PATH: `${path.dirname(nodeBinary(node))}:${baseEnv.PATH}`,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: dir,
      GITHUB_STEP_SUMMARY: summary,
    };

    const passing = await runAction(given, dir, env);
    expect(passing.failed, passing.results.map((r) => r.stderr).join('\n')).toBe(false);
    expect(passing.results.map((r) => [r.step.id ?? r.step.name, r.exitCode])).toEqual([
      ['install', 0],
      ['check', 0],
    ]);
    // The project's own permlearn was used, not one installed from the registry.
    expect(passing.results[0]!.stdout).toBe(JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8')).version);
    expect(readFileSync(summary, 'utf8')).toMatch(/✅/);

    // The pull request.
    appendFileSync(path.join(dir, 'app.js'), "fs.readFileSync(path.join(__dirname, 'templates', 'letter.txt'), 'utf8');\n");
    writeFileSync(summary, '');
    const failing = await runAction(given, dir, env);
    expect(failing.failed).toBe(true);
    const check = failing.results.find((r) => r.step.id === 'check')!;
    expect(check.exitCode).toBe(7);
    expect(check.stderr).toMatch(/^::error file=app\.js,line=8,.*::--allow-fs-read=\.\/templates\/letter\.txt is needed/m);
    expect(readFileSync(summary, 'utf8')).toMatch(/❌ \*\*the app needs 1 grant that `permlearn\.json` lacks\*\*/);
    // What the upload step keeps.
    const upload = failing.results.find((r) => r.step.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with).toMatchObject({ name: 'permlearn-suggested', path: './permlearn.suggested.json' });
    expect(failing.outputs.suggested).toBe('permlearn.suggested.json');
    expect(existsSync(path.join(dir, upload!.with!.path!))).toBe(true);
    expect(readFileSync(path.join(dir, upload!.with!.path!), 'utf8')).toContain('letter.txt');
  });
});
