import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryProjectRoot, findProjectRoot, gitRoot, packageRoot } from './project.js';
import { packageFinder } from './packages.js';

// One tree on disk for every case:
//   repo/.git  repo/package.json  repo/svc/package.json  repo/svc/src/  repo/svc/node_modules/tool/bin/
//   repo/bad/package.json (does not parse)  loose/node_modules/tool/  loose/src/  home/.git  home/proj/
const top = mkdtempSync(path.join(os.tmpdir(), 'pl-project-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const at = (...p: string[]) => path.join(top, ...p);
for (const d of ['repo/.git', 'repo/svc/src', 'repo/svc/node_modules/tool/bin', 'repo/bad', 'loose/node_modules/tool', 'loose/src', 'home/.git', 'home/proj'])
  mkdirSync(at(d), { recursive: true });
writeFileSync(at('repo/package.json'), '{"name":"repo"}');
writeFileSync(at('repo/svc/package.json'), '{"name":"svc"}');
writeFileSync(at('repo/svc/node_modules/tool/package.json'), '{"name":"tool"}');
writeFileSync(at('repo/bad/package.json'), '{ not json');
const home = at('home');

describe('gitRoot / findProjectRoot', () => {
  it.each<[dir: string, git: string | undefined, project: string]>([
    ['repo', 'repo', 'repo'],
    ['repo/svc/src', 'repo', 'repo'],
    ['repo/svc/src/', 'repo', 'repo'],
    // no .git above: the cwd itself
    ['loose/src', undefined, 'loose/src'],
    // the home folder is never a project, even with a .git in it
    ['home/proj', undefined, 'home/proj'],
    ['home', undefined, 'home'],
  ])('%s → git %s, project %s', (dir, git, project) => {
    expect(gitRoot(at(dir), home)).toBe(git === undefined ? undefined : at(git));
    expect(findProjectRoot(at(dir), home)).toBe(at(project));
  });
});

describe('packageRoot / entryProjectRoot', () => {
  it.each<[dir: string, pkg: string | undefined]>([
    ['repo/svc/src', 'repo/svc'],
    ['repo/svc', 'repo/svc'],
    ['repo', 'repo'],
    // a package.json that does not parse is not a package
    ['repo/bad', 'repo'],
  ])('packageRoot(%s) → %s', (dir, pkg) => {
    expect(packageRoot(at(dir))).toBe(pkg === undefined ? undefined : at(pkg));
  });

  it.each<[entry: string, cwd: string, root: string]>([
    ['repo/svc/src/index.js', 'repo/svc', 'repo/svc'],
    // an installed tool belongs to the project that installed it
    ['repo/svc/node_modules/tool/bin/cli.js', 'repo/svc', 'repo/svc'],
    ['loose/node_modules/tool/cli.js', 'loose/src', 'loose'],
  ])('entryProjectRoot(%s, cwd %s) → %s', (entry, cwd, root) => {
    expect(entryProjectRoot(at(entry), at(cwd), packageFinder())).toBe(at(root));
  });

  it('without any package.json above, an entry belongs to the cwd', () => {
    // (the temporary directory has no package.json above it here; if it had, this case would say so)
    expect(packageRoot(at('loose'))).toBeUndefined();
    expect(entryProjectRoot(at('loose/src/index.js'), at('loose/src'))).toBe(at('loose/src'));
  });
});
