import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeJsString, isDuplicateGrantAbort, parseStderrDenials } from './parse-stderr.js';

const CAPTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../test/captures');

interface Expected {
  block: { code: string | null; permission: string | null; resource: string | null } | null;
  nested?: { key: string; code: string; permission: string; resource: string };
  extra?: { syscall: string; hostname: string };
  abort?: { signal: string; assertion: string };
}

interface Capture {
  file: string;
  major: number;
  case: string;
  expected: Expected;
}

const index = JSON.parse(readFileSync(path.join(CAPTURES, 'index.json'), 'utf8')) as { captures: Capture[] };
const captures = index.captures;
const read = (file: string): string => readFileSync(path.join(CAPTURES, file), 'utf8');

/** What the parser must return for a capture, derived from the index's `expected` block only. */
function wanted(e: Expected): { code: string; permission: string; resource: string } | undefined {
  if (e.nested) return { code: e.nested.code, permission: e.nested.permission, resource: e.nested.resource };
  if (!e.block) return undefined;
  if (e.block.code === 'ERR_DLOPEN_DISABLED') return { code: 'ERR_DLOPEN_DISABLED', permission: 'Addon', resource: '' };
  if (e.extra?.syscall === 'getaddrinfo') return { code: e.block.code!, permission: 'Net', resource: e.extra.hostname };
  return { code: e.block.code!, permission: e.block.permission!, resource: e.block.resource! };
}

describe('parseStderrDenials on every real capture', () => {
  it('has captures from all four Node lines', () => {
    expect(new Set(captures.map((c) => c.major))).toEqual(new Set([20, 22, 24, 26]));
    expect(captures.length).toBeGreaterThan(100);
  });

  it.each(captures.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const denials = parseStderrDenials(read(c.file));
    const want = wanted(c.expected);
    if (want === undefined) {
      expect(denials).toEqual([]);
      return;
    }
    // One error escaped the app in every capture, so exactly one denial, and it is the last block.
    expect(denials).toHaveLength(1);
    expect(denials.at(-1)).toMatchObject({ ...want, source: 'stderr' });
    expect(typeof denials[0]!.message).toBe('string');
  });
});

describe('parseStderrDenials: the message taken from the header line', () => {
  const cases: Array<[file: string, message: string]> = [
    ['node20/fs-read-sync.stderr', 'Access to this API has been restricted'],
    ['node26/fs-read-sync.stderr', 'Access to this API has been restricted. Use --allow-fs-read to manage permissions.'],
    ['node22/inspector.stderr', 'Access to this API has been restricted. '],
    ['node24/inspector.stderr', 'Access to this API has been restricted. Use --allow-inspector to manage permissions.'],
    ['node26/addon.stderr', 'Cannot load native addon because loading addons is disabled.'],
    ['node26/fsync.stderr', 'fsync API is disabled when Permission Model is enabled.'],
    ['node20/symlink.stderr', 'fs.symlink API requires full fs.read and fs.write permissions.'],
    ['node26/symlink.stderr', 'fs.symlink API requires full fs.read and fs.write permissions.'],
    ['node26/net-connect-ip.stderr', 'Access to this API has been restricted. Use --allow-net to manage permissions.'],
    ['node26/fetch-ip.stderr', 'Access to this API has been restricted. Use --allow-net to manage permissions.'],
    ['node26/net-dns.stderr', 'getaddrinfo ERR_ACCESS_DENIED localhost'],
  ];
  it.each(cases)('%s', (file, message) => {
    const [d] = parseStderrDenials(read(file));
    expect(d?.message).toBe(message);
  });
});

describe('parseStderrDenials: special shapes', () => {
  it.each([
    ['node26/fs-read-relative.stderr', 'data/x.txt'],
    ['node26/resource-quote-single.stderr', "/APP/it's.txt"],
    ['node26/resource-quote-single-double.stderr', '/APP/it\'s "x".txt'],
    ['node26/resource-quote-all-three.stderr', '/APP/a\'b"c`d.txt'],
    ['node20/resource-quote-all-three.stderr', '/APP/a\'b"c`d.txt'],
    ['node26/resource-newline.stderr', '/APP/new\nline.txt'],
    ['node26/resource-control.stderr', '/APP/tab\there\u0007\u001b.txt'],
    ['node26/resource-backslash.stderr', '/APP/back\\slash.txt'],
    ['node26/resource-non-ascii.stderr', '/APP/\u00fc\u20ac\u{1F600}.txt'],
    ['node22/resource-space.stderr', '/APP/with space.txt'],
  ])('%s decodes the resource to %j', (file, resource) => {
    expect(parseStderrDenials(read(file))).toEqual([expect.objectContaining({ code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource })]);
  });

  it('the quote styles really differ in the captures', () => {
    expect(read('node26/resource-quote-single.stderr')).toContain(`resource: "/APP/it's.txt"`);
    expect(read('node26/resource-quote-single-double.stderr')).toContain('resource: `/APP/it\'s "x".txt`');
    expect(read('node26/resource-quote-all-three.stderr')).toContain(`resource: '/APP/a\\'b"c\`d.txt'`);
  });

  it('net connect: nested errno block at 4 spaces, outer half not reported again', () => {
    const text = read('node26/net-connect-ip.stderr');
    expect(text).toMatch(/^ {4}permission: 'Net',$/m);
    expect(parseStderrDenials(text)).toEqual([
      expect.objectContaining({ code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: '127.0.0.1', source: 'stderr' }),
    ]);
  });

  it('fetch: errno block at 6 spaces under [cause]', () => {
    const text = read('node26/fetch-ip.stderr');
    expect(text).toMatch(/^ {6}permission: 'Net',$/m);
    expect(parseStderrDenials(text)).toEqual([expect.objectContaining({ permission: 'Net', resource: '127.0.0.1' })]);
  });

  it.each(['node26/net-dns.stderr', 'node26/net-listen-hostname.stderr'])('DNS getaddrinfo in %s names the host', (file) => {
    expect(parseStderrDenials(read(file))).toEqual([expect.objectContaining({ permission: 'Net', resource: 'localhost' })]);
  });

  it('a synthetic connect with only an address and no nested block reports the address', () => {
    const text = [
      'Error: connect ERR_ACCESS_DENIED x',
      '    at f (node:net:1:1) {',
      "  code: 'ERR_ACCESS_DENIED',",
      "  syscall: 'connect',",
      "  address: '10.0.0.1',",
      '  port: 80',
      '}',
    ].join('\n');
    expect(parseStderrDenials(text)).toEqual([expect.objectContaining({ permission: 'Net', resource: '10.0.0.1' })]);
  });

  it("a permission this permlearn does not know (a later Node's) is read as unknown, with the name Node gave", () => {
    const text = [
      'Error: Access to this API has been restricted',
      '    at f (/app/x.js:1:1) {',
      "  code: 'ERR_ACCESS_DENIED',",
      "  permission: 'Teleport',",
      "  resource: '/far'",
      '}',
    ].join('\n');
    expect(parseStderrDenials(text)).toEqual([
      {
        code: 'ERR_ACCESS_DENIED',
        source: 'stderr',
        message: 'Access to this API has been restricted',
        permission: 'unknown',
        rawPermission: 'Teleport',
        resource: '/far',
      },
    ]);
  });

  it('ERR_DLOPEN_DISABLED becomes an Addon denial with no resource', () => {
    expect(parseStderrDenials(read('node20/addon.stderr'))).toEqual([
      {
        code: 'ERR_DLOPEN_DISABLED',
        permission: 'Addon',
        resource: '',
        source: 'stderr',
        message: 'Cannot load native addon because loading addons is disabled.',
      },
    ]);
  });

  it('CRLF line ends are accepted', () => {
    const text = read('node24/fs-write.stderr').replace(/\n/g, '\r\n');
    expect(parseStderrDenials(text)).toEqual([expect.objectContaining({ permission: 'FileSystemWrite', resource: '/APP/out.txt' })]);
  });

  it('text without any block yields nothing', () => {
    expect(parseStderrDenials('')).toEqual([]);
    expect(parseStderrDenials("code: 'ERR_ACCESS_DENIED'\n")).toEqual([]);
    expect(parseStderrDenials("Error: x\n  code: 'ENOENT',\n  path: '/x'\n}")).toEqual([]);
  });
});

describe('parseStderrDenials: app output before the denial', () => {
  it('the real capture: a one-line look-alike object is not a block', () => {
    for (const major of [20, 22, 24, 26]) {
      const text = read(`node${major}/denial-then-app-output.stderr`);
      expect(text).toContain("resource: 'not-this-one'");
      expect(parseStderrDenials(text)).toEqual([expect.objectContaining({ resource: '/APP/config.json' })]);
    }
  });

  // Real Node 26.10.0 stderr (app dir sanitised to /APP): the app printed a plain object, an array of
  // plain objects and an Error decorated like a denial with console.error, then died on a real denial.
  const LOOKALIKES = `{
  code: 'ERR_ACCESS_DENIED',
  permission: 'FileSystemRead',
  resource: '/APP/not-a-real-denial/padding-padding.txt'
}
[
  {
    code: 'ERR_ACCESS_DENIED',
    permission: 'FileSystemWrite',
    resource: '/APP/nested-in-array/padding-padding-padding.txt'
  }
]
Error: plain
    at Object.<anonymous> (/APP/look.js:3:11)
    at node:internal/main/run_main_module:33:47 {
  code: 'ERR_ACCESS_DENIED',
  permission: 'FileSystemRead',
  resource: '/APP/err-like'
}
node:fs:778
  return binding.open(
                 ^

Error: Access to this API has been restricted. Use --allow-fs-read to manage permissions.
    at Object.openSync (node:fs:778:18)
    at Object.readFileSync (node:fs:624:35)
    at Object.<anonymous> (/APP/look.js:4:15)
    at node:internal/main/run_main_module:33:47 {
  code: 'ERR_ACCESS_DENIED',
  permission: 'FileSystemRead',
  resource: '/APP/config.json'
}

Node.js v26.10.0
`;

  it('plain objects are skipped; error blocks are kept in order, the fatal one last', () => {
    const denials = parseStderrDenials(LOOKALIKES);
    expect(denials.map((d) => d.resource)).toEqual(['/APP/err-like', '/APP/config.json']);
    expect(denials[0]!.message).toBe('plain');
    expect(denials.at(-1)).toMatchObject({
      permission: 'FileSystemRead',
      resource: '/APP/config.json',
      message: 'Access to this API has been restricted. Use --allow-fs-read to manage permissions.',
    });
  });

  it('a caught-and-logged denial before an uncaught one gives both, in order', () => {
    const logged = read('node22/caught-and-logged.stderr');
    const fatal = read('node22/fs-write.stderr');
    expect(parseStderrDenials(`${logged}\n${fatal}`).map((d) => [d.permission, d.resource])).toEqual([
      ['FileSystemRead', '/APP/secret.txt'],
      ['FileSystemWrite', '/APP/out.txt'],
    ]);
  });
});

describe('isDuplicateGrantAbort', () => {
  it.each(captures.map((c) => [c.file, c.case === 'node20-duplicate-grant'] as const))('%s → %s', (file, abort) => {
    expect(isDuplicateGrantAbort(read(file))).toBe(abort);
  });
});

describe('decodeJsString', () => {
  it.each<[string, string | undefined]>([
    ["'abc'", 'abc'],
    ['"it\'s"', "it's"],
    ['`a\'b"c`', 'a\'b"c'],
    ["'a\\'b\"c`d'", 'a\'b"c`d'],
    ["''", ''],
    ["'a\\nb'", 'a\nb'],
    ["'\\t\\r\\b\\f\\v\\0'", '\t\r\b\f\v\0'],
    ["'\\x07\\x1B'", '\u0007\u001b'],
    ["'back\\\\slash'", 'back\\slash'],
    ["'\\u00fc'", '\u00fc'],
    ["'\\u{1F600}x'", '\u{1F600}x'],
    ["'ü€😀'", 'ü€😀'],
    ["'/tmp/with space'", '/tmp/with space'],
    // not literals
    ['abc', undefined],
    ["'abc", undefined],
    ['\'abc"', undefined],
    ["'", undefined],
    ['', undefined],
    ['3000', undefined],
    ["'dangling\\'", undefined],
  ])('%s → %j', (literal, value) => {
    expect(decodeJsString(literal)).toBe(value);
  });
});
