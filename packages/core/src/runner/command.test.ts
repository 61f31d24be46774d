// How `permlearn run -- <command>` starts things: package scripts without the package manager.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageScript } from './learn-app.js';

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-command-')));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ scripts: { start: 'node server.js', dev: 'node --watch x.js', test: 'node --test' } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packageScript', () => {
  const line = (cmd: string[]) => packageScript(cmd, dir)?.[2];
  it.each([
    [['npm', 'start'], 'node server.js'],
    [['npm', 'start', '--', '8080'], 'node server.js 8080'],
    [['npm', 'run', 'dev'], 'node --watch x.js'],
    [['npm', 'run-script', 'dev', '--', "it's"], `node --watch x.js 'it'\\''s'`],
    [['pnpm', 'dev'], 'node --watch x.js'],
    [['yarn', 'test'], 'node --test'],
    [['/usr/bin/npm', 'test'], 'node --test'],
  ])('%j runs the script itself', (cmd, script) => {
    expect(line(cmd)).toMatch(new RegExp(`; ${script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(line(cmd)).toContain(`${path.join(dir, 'node_modules', '.bin')}:`);
  });
  it("`npx tool` runs the project's own bin", () => {
    mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(path.join(dir, 'node_modules', '.bin', 'tool'), '#!/usr/bin/env node\n');
    expect(packageScript(['npx', 'tool', '--x', 'y'], dir)).toEqual([path.join(dir, 'node_modules', '.bin', 'tool'), '--x', 'y']);
  });
  it.each([[['node', 'server.js']], [['npm', 'install']], [['npm']], [['npx', 'not-installed', 'a.ts']], [['npx', '--yes', 'x']]])(
    '%j is run as it is',
    (cmd) => {
      expect(packageScript(cmd, dir)).toBeUndefined();
    },
  );
  it('npm runs prestart and poststart around start; pnpm does not', () => {
    const other = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-command-')));
    try {
      writeFileSync(path.join(other, 'package.json'), JSON.stringify({ scripts: { prestart: 'node build.js', start: 'node server.js' } }));
      expect(packageScript(['npm', 'start'], other)?.[2]).toMatch(/; node build\.js && node server\.js$/);
      expect(packageScript(['pnpm', 'start'], other)?.[2]).toMatch(/; node server\.js$/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
  it('a script that does not exist is a usage error', () => {
    expect(() => packageScript(['npm', 'run', 'nope'], dir)).toThrow(/has no "nope" script/);
  });
});
