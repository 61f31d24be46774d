// What a grant exposes, measured on a real folder.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposureOf, matchesSecret, secretsUnder } from './exposure.js';

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'permlearn-exposure-')));
  const files = [
    'app/index.js',
    'app/lib/a.js',
    'app/lib/b.js',
    'app/.env',
    'app/.env.example',
    'app/config/prod.key',
    'app/node_modules/x/test/key.pem',
    'app/node_modules/x/index.js',
    'cache-1/f',
    'cache-2/g/h',
    'cachet',
  ];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), 'x');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secretsUnder', () => {
  it('finds secret-looking files, not examples, not inside node_modules', () => {
    expect(secretsUnder(path.join(dir, 'app'))).toEqual(['.env', 'config/prod.key']);
    expect(secretsUnder(path.join(dir, 'app', 'lib'))).toEqual([]);
  });
});

describe('matchesSecret', () => {
  it.each([
    ['/p/.env', true],
    ['/p/.env.production', true],
    ['/p/.env.example', false],
    ['/home/u/.ssh/id_ed25519', true],
    ['/p/certs/server.pem', true],
    ['/p/.npmrc', true],
    ['/p/.aws/credentials', true],
    ['/p/src/index.js', false],
    ['/p/environment.js', false],
  ])('%s → %s', (p, expected) => expect(matchesSecret(p)).toBe(expected));
});

describe('exposureOf', () => {
  it('a directory: every file under it, and the secrets among them (none counted in node_modules)', () => {
    expect(exposureOf(path.join(dir, 'app'), 'dir')).toEqual({ files: 8, secrets: [path.join(dir, 'app/.env'), path.join(dir, 'app/config/prod.key')] });
    expect(exposureOf(path.join(dir, 'app/node_modules'), 'dir')).toEqual({ files: 2, secrets: [] });
  });
  it('a prefix: every file under every path that starts with it', () => {
    expect(exposureOf(path.join(dir, 'cache-'), 'prefix')).toEqual({ files: 2, secrets: [] });
    expect(exposureOf(path.join(dir, 'cache'), 'prefix').files).toBe(3);
  });
  it('a file is one file; a secret file is reported; a missing path is nothing', () => {
    expect(exposureOf(path.join(dir, 'app/index.js'), 'file')).toEqual({ files: 1, secrets: [] });
    expect(exposureOf(path.join(dir, 'app/.env'), 'file')).toEqual({ files: 1, secrets: [path.join(dir, 'app/.env')] });
    expect(exposureOf(path.join(dir, 'nope'), 'missing')).toEqual({ files: 0, secrets: [] });
  });
});
