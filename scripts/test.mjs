#!/usr/bin/env node
// `npm test`: set up, type-check the test files, run every test (unit, integration and end-to-end)
// with vitest, and finish with the plain line `N passed, N failed` that CI reads. Each type error in
// a test file counts as one failure there, as does each source file the formatter would change.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { root, setup, PNPM } from './setup.mjs';

setup();

// The build compiles the sources only; tsconfig.test.json covers the tests and the helpers they share.
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.test.json'], {
  cwd: root,
  encoding: 'utf8',
});
const typeOutput = `${tsc.stdout ?? ''}${tsc.stderr ?? ''}`;
const typeErrors = tsc.status === 0 ? 0 : Math.max(1, (typeOutput.match(/error TS\d+:/g) ?? []).length);
if (typeErrors > 0) process.stdout.write(typeOutput);
console.log(`type-check of the test files (tsc -p tsconfig.test.json): ${typeErrors} error${typeErrors === 1 ? '' : 's'}\n`);

// The formatter's verdict: each source file prettier would change counts as one failure.
const prettier = spawnSync(process.execPath, [path.join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--list-different', '.'], {
  cwd: root,
  encoding: 'utf8',
});
const unformatted = (prettier.stdout ?? '').split('\n').filter(Boolean);
const formatErrors = prettier.status === 0 || prettier.status === 1 ? unformatted.length : 1;
if (formatErrors > 0) process.stdout.write(`${unformatted.join('\n')}${prettier.stderr ?? ''}\n(npm run format fixes them)\n`);
console.log(`format check (prettier --list-different): ${formatErrors} file${formatErrors === 1 ? '' : 's'} to format\n`);

const report = path.join(root, '.tmp', 'vitest-report.json');
mkdirSync(path.dirname(report), { recursive: true });
rmSync(report, { force: true });
const run = spawnSync(
  'npx',
  ['--yes', PNPM, 'exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  // A test file that fails to load has no failed test in it, but it failed all the same.
  const brokenFiles = (json.testResults ?? []).filter((r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'));
  failed = json.numFailedTests + brokenFiles.length;
} catch {
  failed = Math.max(1, failed);
}
failed += typeErrors + formatErrors;
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = run.status === 0 && failed === 0 ? 0 : 1;
