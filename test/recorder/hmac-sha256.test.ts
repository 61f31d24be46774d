// The recorder's HMAC-SHA256 (recorder/hmac-sha256.cjs), which signs a Node child's report lines and
// the record preload's lines without loading node:crypto. permlearn checks those tags with node:crypto
// (runner/evidence.ts, runner/record-files.ts), so each tag must be exactly node:crypto's: RFC 4231's
// vectors, then node:crypto itself on every length around the block boundaries, long and non-ASCII
// keys and texts, both the WebAssembly and the JavaScript compression, and in real Node processes.
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '@permlearn/test-nodes';

const require = createRequire(import.meta.url);
const FILE = path.join(__dirname, '..', '..', 'packages', 'core', 'recorder', 'hmac-sha256.cjs');
interface Tagger {
  tag(text: string): string;
  digest(text: string): Uint8Array;
}
const { hmacSha256, SHA256_WASM } = require(FILE) as { hmacSha256: (key: string, js?: boolean) => Tagger; SHA256_WASM: string };

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const nodeTag = (key: string, text: string) => createHmac('sha256', key).update(text).digest('base64url').slice(0, 22);
const nodeHex = (key: string, text: string) => createHmac('sha256', key).update(text).digest('hex');

/** Texts of every length from 0 to 200 (1-3 blocks and the padding's edges at 55/56 and 63/64), mixed characters. */
const texts = Array.from({ length: 201 }, (_, n) => Array.from({ length: n }, (_, i) => String.fromCharCode(32 + ((i * 7 + n) % 95))).join(''));
const keys = [
  '',
  'k',
  'A'.repeat(43), // the shape of permlearn's keys: 32 random bytes in base64url
  'x'.repeat(64), // a whole block
  'y'.repeat(65), // longer than a block: hashed first
  'w'.repeat(128), // two whole blocks
  'z'.repeat(131),
  'é-キー-😀'.repeat(12), // UTF-8 of more than 64 bytes
];

describe.each([
  ['WebAssembly', false],
  ['JavaScript', true],
])('HMAC-SHA256 with the %s compression', (_, js) => {
  it("RFC 4231's test cases 1 and 2 (the ones whose key and data are text)", () => {
    expect(hex(hmacSha256('\x0b'.repeat(20), js).digest('Hi There'))).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    expect(hex(hmacSha256('Jefe', js).digest('what do ya want for nothing?'))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it.each(keys.map((k) => [k.length, k]))("node:crypto's tag and digest for every text length 0-200 (key of %i characters)", (_, key) => {
    const t = hmacSha256(key, js);
    for (const text of texts) {
      expect(t.tag(text)).toBe(nodeTag(key, text));
      expect(hex(t.digest(text))).toBe(nodeHex(key, text));
    }
  });

  it('non-ASCII text and lone surrogates are read as UTF-8 the way node:crypto reads a string', () => {
    const t = hmacSha256('A'.repeat(43), js);
    for (const text of ['é', 'キー', '😀', '\ud800', 'a\udc00b', '\ud83d', `${'é'.repeat(30)}\ud800${'x'.repeat(20)}`, JSON.stringify({ path: '/tmp/ü/ß' })]) {
      expect(t.tag(text)).toBe(nodeTag('A'.repeat(43), text));
    }
  });

  it('a text larger than the room it starts with (the memory grows), then small ones again', () => {
    const t = hmacSha256('A'.repeat(43), js);
    for (const text of ['x'.repeat(300_000), `${'é'.repeat(400_000)}😀`, 'small', 'y'.repeat(5_000_000)])
      expect(t.tag(text)).toBe(nodeTag('A'.repeat(43), text));
  });

  it('taggers of two keys do not share state', () => {
    const a = hmacSha256('A'.repeat(43), js);
    const b = hmacSha256('B'.repeat(43), js);
    expect(a.tag('line')).toBe(nodeTag('A'.repeat(43), 'line'));
    expect(b.tag('line')).toBe(nodeTag('B'.repeat(43), 'line'));
    expect(a.tag('line')).toBe(nodeTag('A'.repeat(43), 'line'));
  });
});

it('the WebAssembly module in the recorder file is the one scripts/sha256-wasm.mjs builds', async () => {
  const generator = path.join(__dirname, '..', '..', 'scripts', 'sha256-wasm.mjs');
  const { sha256Module } = (await import(generator)) as { sha256Module: () => Uint8Array };
  expect(Buffer.from(SHA256_WASM, 'base64').equals(Buffer.from(sha256Module()))).toBe(true);
});

describe('in real Node processes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pl-hmac-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'sign.cjs');
  // What the recorder does in a Node child: a tagger for the key, a line signed; then what it loaded.
  writeFileSync(
    script,
    `const t = require(${JSON.stringify(FILE)}).hmacSha256(process.argv[2]);
const tags = [t.tag('{"t":"exit","code":0}'), t.tag('é'.repeat(100))];
console.log(JSON.stringify({ tags, wasm: typeof WebAssembly, crypto: process.moduleLoadList.filter((m) => m.includes('crypto')) }));
`,
  );
  const key = 'K'.repeat(43);
  const want = [nodeTag(key, '{"t":"exit","code":0}'), nodeTag(key, 'é'.repeat(100))];

  it.each([20, 22, 24, 26])('Node %i signs as node:crypto does without loading it, and so does --jitless (no WebAssembly)', (major) => {
    for (const flags of [[], ['--jitless']]) {
      const r = spawnSync(nodeBinary(major), [...flags, script, key], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ tags: want, wasm: flags.length ? 'undefined' : 'object', crypto: [] });
    }
  });
});
