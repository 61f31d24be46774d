// check-report: the text, JSON, Markdown and GitHub annotations of one check outcome, table-tested.
import { describe, expect, it } from 'vitest';
import type { Denial, ProfileComparison } from '@permlearn/core';
import { checkAnnotations, checkJson, checkMarkdown, checkText, type CheckOutcome } from './check-report.js';

const read = (resource: string, extra: Partial<Denial> = {}): Denial => ({
  permission: 'FileSystemRead',
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'uncaught',
  ...extra,
});

const comparison: ProfileComparison = {
  layout: { cwd: '/repo/svc', root: '/repo' },
  added: [
    {
      scope: 'fs.read',
      flag: '--allow-fs-read=/repo/svc/templates',
      path: '/repo/svc/templates',
      kind: 'dir',
      evidence: [read('/repo/svc/templates/a|b.txt', { by: 'app', at: 'app.js:8', site: '/repo/svc/app.js:8:3' })],
    },
    {
      scope: 'fs.read',
      flag: '--allow-fs-read=/repo/node_modules/yaml',
      path: '/repo/node_modules/yaml',
      kind: 'dir',
      evidence: [read('/repo/node_modules/yaml/dist/x.js', { by: 'yaml@2.4.1', at: 'dist/index.js:3', site: '/repo/node_modules/yaml/dist/index.js:3:1' })],
    },
  ],
  unused: [
    {
      scope: 'child',
      flag: '--allow-child-process',
      evidence: [{ permission: 'ChildProcess', resource: '/bin/sh', code: 'ERR_ACCESS_DENIED', source: 'uncaught', by: 'app' }],
    },
  ],
  kept: 3,
  committedNode: 'v24.21.0',
  currentNode: 'v24.21.0',
  unenforced: [],
};
const failing: CheckOutcome = {
  profile: '/repo/svc/permlearn.json',
  name: 'svc',
  status: 'new-needs',
  exitCode: 7,
  comparison,
  strict: false,
  written: false,
  runs: 3,
};

describe('check output', () => {
  it('the human diff: + needed with who asked, - unused', () => {
    const text = checkText(failing, false, '/repo/svc');
    expect(text).toContain('+ --allow-fs-read=./templates\n    ← FileSystemRead ./templates/a|b.txt by app (app.js:8)\n');
    expect(text).toContain('+ --allow-fs-read=../node_modules/yaml\n    ← FileSystemRead ../node_modules/yaml/dist/x.js by yaml@2.4.1 (dist/index.js:3)\n');
    expect(text).toContain('- --allow-child-process  no longer used, granted for ChildProcess /bin/sh by app\n');
    expect(text).toContain('✖ the app needs 2 grants that permlearn.json lacks (exit 7)\n');
  });

  it('Markdown: a table with pipes escaped, unused grants folded away', () => {
    const md = checkMarkdown(failing, '/repo');
    expect(md).toMatch(/^### permlearn check: `svc\/permlearn\.json`\n\n❌ \*\*the app needs 2 grants that `svc\/permlearn\.json` lacks\*\*\n/);
    expect(md).toContain('| `--allow-fs-read=./templates` | FileSystemRead `./templates/a\\|b.txt` | app | `app.js:8` |');
    expect(md).toContain('<details>\n<summary>1 grant no longer used (a suggestion, not a failure)</summary>');
    expect(md.endsWith('\n\n')).toBe(true);
  });

  it("annotations: the app's line for its own read, the profile for a dependency's; escaped", () => {
    const lines = checkAnnotations(failing, '/repo');
    expect(lines[0]).toBe(
      '::error file=svc/app.js,line=8,col=3,title=permlearn%3A new permission needed::--allow-fs-read=./templates is needed and permlearn.json lacks it: FileSystemRead ./templates/a|b.txt by app (app.js:8)',
    );
    expect(lines[1]).toMatch(/^::error file=svc\/permlearn\.json,title=permlearn%3A new permission needed::--allow-fs-read=\.\.\/node_modules\/yaml is needed/);
    expect(lines[2]).toBe(
      '::warning file=svc/permlearn.json,title=permlearn%3A grant no longer used::--allow-child-process is no longer used by the app; remove it (permlearn check --write)',
    );
    expect(checkAnnotations({ ...failing, strict: true }, '/repo')[2]).toMatch(/^::error /);
    expect(checkAnnotations({ ...failing, status: 'app-failed', exitCode: 3, reason: 'boom\nline 2', comparison: undefined }, '/repo')).toEqual([
      '::error file=svc/permlearn.json,title=permlearn check failed::could not learn the app again (app-failed): boom%0Aline 2',
    ]);
  });

  it('JSON: display flags and absolute grants, evidence per need', () => {
    const json = checkJson(failing) as { added: { flag: string; grant: string; evidence: unknown[] }[]; unused: unknown[]; committedVerified: unknown };
    expect(json.added[0]).toEqual({
      scope: 'fs.read',
      flag: '--allow-fs-read=./templates',
      grant: '--allow-fs-read=/repo/svc/templates',
      evidence: [{ permission: 'FileSystemRead', resource: './templates/a|b.txt', by: 'app', at: 'app.js:8', site: '/repo/svc/app.js:8:3' }],
    });
    expect(json.committedVerified).toBeNull();
  });
});
