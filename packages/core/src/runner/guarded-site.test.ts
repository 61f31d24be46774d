import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGuardProbe } from './guarded-site.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'permlearn-guarded-'));
function source(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
/** The site V8 would name for the first occurrence of `callee` in `text` (1-based line and column). */
function siteOf(file: string, text: string, callee: string): string {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(callee));
  return `${file}:${line + 1}:${lines[line]!.indexOf(callee) + 1}`;
}

describe('createGuardProbe', () => {
  const text = [
    "const fs = require('node:fs');",
    'let s = {};',
    "try { s = JSON.parse(fs.readFileSync('override.json', 'utf8')); } catch { /* defaults */ }",
    "const raw = fs.readFileSync('config.json', 'utf8');",
    "try { fs.statSync('probe.json'); } catch {}",
    "try { fs.lstatSync('test.js'); } catch { return; }",
    'try {',
    "  setTimeout(() => fs.openSync('later.txt'), 1);",
    '} catch (e) {}',
    "try { fs.readdirSync('dir'); } catch {}",
    "try { fs.promises.readFile('p.json').catch(() => {}); } finally {}",
  ].join('\n');
  const file = source('app.cjs', text);
  const probe = createGuardProbe();

  it('a content read inside a try with a catch, in its own function, is guarded', () => {
    expect(probe(siteOf(file, text, "readFileSync('override"))).toBe(true);
    expect(probe(`file://${siteOf(file, text, "readFileSync('override")}`)).toBe(true);
  });

  it('a read outside any try, or in a function the try only creates, is not', () => {
    expect(probe(siteOf(file, text, "readFileSync('config"))).toBe(false);
    expect(probe(siteOf(file, text, "openSync('later"))).toBe(false);
  });

  it('a stat counts only where the catch ignores the failure; readdir and a try without catch never', () => {
    expect(probe(siteOf(file, text, "statSync('probe"))).toBe(true);
    expect(probe(siteOf(file, text, "lstatSync('test"))).toBe(false);
    expect(probe(siteOf(file, text, "readdirSync('dir"))).toBe(false);
    expect(probe(siteOf(file, text, "readFile('p.json"))).toBe(false);
  });

  it('answers no for what it cannot read: a missing file, a syntax acorn does not know, a site that is not one', () => {
    expect(probe(`${dir}/missing.js:1:1`)).toBe(false);
    const ts = source('app.ts', "let x: number = 1;\ntry { fs.readFileSync('a'); } catch {}\n");
    expect(probe(`${ts}:2:10`)).toBe(false);
    expect(probe('index.js:3:10')).toBe(false);
    expect(probe('not a site')).toBe(false);
    expect(probe(`${file}:999:1`)).toBe(false);
  });
});
