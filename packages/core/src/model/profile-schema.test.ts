import { describe, expect, it } from 'vitest';
import { parseProfile, pathProblem, jsonLocation, ProfileError, MAX_PROFILE_BYTES } from './profile-schema.js';
import { PermlearnError } from '../errors.js';
import { breadthViolation } from './breadth.js';

const denial = {
  permission: 'FileSystemRead',
  resource: '/app/a.json',
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: '/app',
  site: '/app/index.js:3:1',
  thread: 'main',
  by: 'app',
  at: 'index.js:3',
  hits: 2,
  time: 1_700_000_000_000,
};

/** A profile as permlearn writes it: every grant's flag is its scope, path and kind rendered. */
function good(): Record<string, any> {
  return structuredClone({
    permlearn: 1,
    node: 'v26.10.0',
    entry: '/app/index.js',
    args: ['--port', '8080'],
    cwd: '/app',
    flags: ['--permission', '--allow-fs-read=/app/a.json', '--allow-fs-write=/app/logs/*', '--allow-fs-write=/tmp/app-*', '--allow-child-process'],
    grants: [
      {
        scope: 'fs.read',
        flag: '--allow-fs-read=/app/a.json',
        path: '/app/a.json',
        kind: 'file',
        denials: [denial],
        notes: [],
        exposes: { files: 1, secrets: [] },
      },
      {
        scope: 'fs.write',
        flag: '--allow-fs-write=/app/logs/*',
        path: '/app/logs',
        kind: 'created-dir',
        denials: [],
        notes: [{ code: 'created-at-run-time', detail: 'made by the app' }],
      },
      { scope: 'fs.write', flag: '--allow-fs-write=/tmp/app-*', path: '/tmp/app-', kind: 'prefix', denials: [], notes: [] },
      { scope: 'child', flag: '--allow-child-process', denials: [], notes: [], risk: 'children run unrestricted' },
    ],
    runs: 3,
    strategy: 'audit',
    root: '/app',
    granularity: 'deps',
    verified: true,
    status: 'verified',
    observed: [{ ...denial, source: 'caught' }],
    ungrantable: [{ denial: { ...denial, permission: 'FileSystemWrite' }, code: 'fd-sync-api', reason: 'fsync' }],
    warnings: [],
  });
}

const parse = (p: unknown) => parseProfile(JSON.stringify(p), 'p.json');
const messageOf = (p: unknown): string => {
  try {
    parse(p);
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    expect(err).toBeInstanceOf(PermlearnError);
    return (err as Error).message;
  }
  throw new Error('it parsed');
};

describe('parseProfile: a profile permlearn wrote', () => {
  it('reads back unchanged', () => {
    expect(parse(good())).toEqual(good());
  });

  it("lists a profile may leave out come back empty, and flags are the grants' own", () => {
    const p = good();
    for (const k of ['args', 'observed', 'ungrantable', 'warnings', 'flags']) delete p[k];
    for (const g of p.grants) {
      delete g.denials;
      delete g.notes;
    }
    const back = parse(p);
    expect(back).toMatchObject({ args: [], observed: [], ungrantable: [], warnings: [] });
    expect(back.flags).toEqual(good().flags);
    expect(back.grants.map((g) => [g.denials, g.notes])).toEqual([
      [[], []],
      [[], []],
      [[], []],
      [[], []],
    ]);
  });

  it('a merged profile and a rendered one read back too', () => {
    const p = good();
    p.merged = { from: ['a.json', 'b.json'], verified: false };
    p.grants[0].seen = { runs: 2, of: 2 };
    p.rendered = {
      node: 'v22.23.3',
      cwd: '/app',
      relative: false,
      flags: ['--permission'],
      warnings: [{ code: 'child-process', message: 'x', flag: '--allow-child-process' }],
      notes: [],
    };
    expect(parse(p)).toEqual(p);
  });

  it('what was set aside, the environment left out and what learning did to the machine read back too', () => {
    const p = good();
    p.setAside = [{ kind: 'per-process', scope: 'fs.read', path: '/proc/4711/stat', reason: 'names one process', optional: true }];
    p.environment = { removed: ['NODE_PATH entry /opt/permlearn/node_modules/.pnpm/node_modules', 'npm_command'] };
    p.machine = { runs: 3, created: ['/app/logs'], changed: [], restored: true, unrestored: [] };
    p.grants[0].notes = [{ code: 'stable-form', detail: 'its folder' }];
    expect(parse(p)).toEqual(p);
    p.setAside[0].kind = 'other';
    expect(messageOf(p)).toMatch(/^p\.json: setAside\[0\]\.kind: /);
  });

  it('a refusal as the breadth rule words it reads back, with its way out (a folder above the project, the temporary folder)', () => {
    const ctx = { homedir: '/home/u', root: '/work/app', tmpdir: '/tmp' };
    for (const [scope, dir] of [
      ['fs.read', '/work'],
      ['fs.write', '/tmp'],
      ['fs.read', '/'],
    ] as const) {
      const violation = breadthViolation({ scope, path: dir, kind: 'dir' }, ctx)!;
      expect(violation).toBeDefined();
      const p = good();
      p.refused = [{ denial: { ...denial, resource: dir }, grant: { scope, path: dir, kind: 'dir' }, violation: { ...violation } }];
      expect(parse(p)).toEqual(p);
    }
    expect(breadthViolation({ scope: 'fs.read', path: '/work', kind: 'dir' }, ctx)!.instead).toBeDefined();
  });

  it('a permission name permlearn does not know is read as unknown, its name kept; the names it knows are as written', () => {
    const p = good();
    p.ungrantable[0] = { denial: { ...denial, permission: 'Teleport' }, code: 'unknown-permission', reason: "unknown permission 'Teleport'" };
    const read = parse(p);
    expect(read.ungrantable[0]!.denial).toEqual({ ...denial, permission: 'unknown', rawPermission: 'Teleport' });
    // Written again and read back, it stays the same.
    expect(parse(read)).toEqual(read);
    expect(read.grants[0]!.denials[0]).toEqual(denial);
    p.ungrantable[0].denial = { ...denial, permission: 'unknown' };
    expect(parse(p).ungrantable[0]!.denial).toEqual({ ...denial, permission: 'unknown', rawPermission: 'unknown' });
  });

  it('Node 20 profiles use the experimental enable flag', () => {
    const p = good();
    p.node = 'v20.20.2';
    expect(messageOf(p)).toBe(
      'p.json: flags[0]: "--permission" is not "--experimental-permission": "flags" must be the enable flag and then each grant\'s flag',
    );
    p.flags[0] = '--experimental-permission';
    expect(parse(p).node).toBe('v20.20.2');
  });
});

describe('parseProfile: every malformed or inconsistent profile is one line naming the JSON location', () => {
  const cases: [string, (p: Record<string, any>) => unknown, string][] = [
    // not a profile at all
    ['null', () => null, 'p.json is not a permlearn profile (expected "permlearn": 1 and "grants")'],
    ['a list', () => [1], 'p.json is not a permlearn profile (expected "permlearn": 1 and "grants")'],
    ['another schema', (p) => ({ ...p, permlearn: 2 }), 'p.json is not a permlearn profile this version reads ("permlearn": 2, expected 1)'],
    // nulls at each level
    ['null node', (p) => ({ ...p, node: null }), 'p.json: node: expected string, received null'],
    ['null in args', (p) => ({ ...p, args: ['a', null] }), 'p.json: args[1]: expected string, received null'],
    ['null grant', (p) => ({ ...p, grants: [null] }), 'p.json: grants[0]: expected object, received null'],
    ['null grants', (p) => ({ ...p, grants: null }), 'p.json: grants: expected array, received null'],
    ['null denials', (p) => ((p.grants[0].denials = null), p), 'p.json: grants[0].denials: expected array, received null'],
    ['null in denials', (p) => (p.grants[0].denials.push(null), p), 'p.json: grants[0].denials[1]: expected object, received null'],
    ['null resource', (p) => ((p.grants[0].denials[0].resource = null), p), 'p.json: grants[0].denials[0].resource: expected string, received null'],
    ['null in notes', (p) => ((p.grants[1].notes = [null]), p), 'p.json: grants[1].notes[0]: expected object, received null'],
    ['null in observed', (p) => ({ ...p, observed: [null] }), 'p.json: observed[0]: expected object, received null'],
    ['null observed', (p) => ({ ...p, observed: null }), 'p.json: observed: expected array, received null'],
    ['null ungrantable denial', (p) => ((p.ungrantable[0].denial = null), p), 'p.json: ungrantable[0].denial: expected object, received null'],
    ['null path', (p) => ((p.grants[0].path = null), p), 'p.json: grants[0].path: expected string, received null'],
    ['null in secrets', (p) => ((p.grants[0].exposes.secrets = [null]), p), 'p.json: grants[0].exposes.secrets[0]: expected string, received null'],
    // wrong types
    ['runs as text', (p) => ({ ...p, runs: '3' }), 'p.json: runs: expected number, received string'],
    ['negative runs', (p) => ({ ...p, runs: -1 }), 'p.json: runs: expected number to be >=0'],
    ['verified as text', (p) => ({ ...p, verified: 'yes' }), 'p.json: verified: expected boolean, received string'],
    ['hits of zero', (p) => ((p.grants[0].denials[0].hits = 0), p), 'p.json: grants[0].denials[0].hits: expected number to be >=1'],
    ['fractional hits', (p) => ((p.grants[0].denials[0].hits = 1.5), p), 'p.json: grants[0].denials[0].hits: expected a whole number'],
    ['an unknown key', (p) => ((p.grants[2].sneaky = true), p), 'p.json: grants[2].sneaky: unknown key'],
    ['an unknown top-level key', (p) => ({ ...p, allow: ['/'] }), 'p.json: allow: unknown key'],
    [
      'an unknown source',
      (p) => ((p.grants[0].denials[0].source = 'trust-me'), p),
      'p.json: grants[0].denials[0].source: expected one of "uncaught"|"logged"|"channel"|"caught"|"loaded"|"stderr", got "trust-me"',
    ],
    [
      'an unknown status',
      (p) => ({ ...p, status: 'fine' }),
      'p.json: status: expected one of "verified"|"app-failed"|"no-progress"|"run-limit"|"ungrantable"|"verify-failed"|"too-broad"|"child-lost-grants", got "fine"',
    ],
    // unknown scopes and kinds
    [
      'an unknown scope',
      (p) => ((p.grants[3].scope = 'everything'), p),
      'p.json: grants[3].scope: expected one of "fs.read"|"fs.write"|"child"|"worker"|"addon"|"wasi"|"inspector"|"openssl.store"|"net"|"ffi", got "everything"',
    ],
    [
      'an unknown kind',
      (p) => ((p.grants[0].kind = 'glob'), p),
      'p.json: grants[0].kind: expected one of "file"|"dir"|"missing"|"created-dir"|"prefix", got "glob"',
    ],
    ['an fs grant without a path', (p) => (delete p.grants[0].path, p), 'p.json: grants[0].path: a fs.read grant needs a "path"'],
    ['an fs grant without a kind', (p) => (delete p.grants[0].kind, p), 'p.json: grants[0].kind: a fs.read grant needs a "kind"'],
    ['a path on a child grant', (p) => ((p.grants[3].path = '/'), p), 'p.json: grants[3].path: a child grant has no path or kind'],
    // relative and non-normalised paths
    ['a relative path', (p) => ((p.grants[0].path = 'a.json'), p), 'p.json: grants[0].path: "a.json" is not an absolute path'],
    [
      'a path with ..',
      (p) => ((p.grants[0].path = '/app/../etc/passwd'), p),
      'p.json: grants[0].path: "/app/../etc/passwd" is not a normalised path (no ".", "..", "//" or trailing "/")',
    ],
    [
      'a path with //',
      (p) => ((p.grants[0].path = '/app//a.json'), p),
      'p.json: grants[0].path: "/app//a.json" is not a normalised path (no ".", "..", "//" or trailing "/")',
    ],
    [
      'a file with a trailing /',
      (p) => ((p.grants[0].path = '/app/'), p),
      'p.json: grants[0].path: "/app/" is not a normalised path (a trailing "/" belongs only to a prefix)',
    ],
    ['a path with a line break', (p) => ((p.grants[0].path = '/app/a\nb'), p), 'p.json: grants[0].path: "/app/a\\nb" holds a control character'],
    ['a relative cwd', (p) => ({ ...p, cwd: 'app' }), 'p.json: cwd: "app" is not an absolute path'],
    ['a relative root', (p) => ({ ...p, root: './app' }), 'p.json: root: "./app" is not an absolute path'],
    ['a relative denial cwd', (p) => ((p.grants[0].denials[0].cwd = '.'), p), 'p.json: grants[0].denials[0].cwd: "." is not an absolute path'],
    ['a relative secret', (p) => ((p.grants[0].exposes.secrets = ['.env']), p), 'p.json: grants[0].exposes.secrets[0]: ".env" is not an absolute path'],
    ['an entry that is a folder', (p) => ({ ...p, entry: '/' }), 'p.json: entry: "/" is not a file name'],
    // flag and path disagree: the forged flag hides what render would pass
    [
      'a forged flag hiding --allow-fs-read=/',
      (p) => ((p.grants[0].path = '/'), p),
      'p.json: grants[0].flag: "--allow-fs-read=/app/a.json" is not what the grant\'s scope, path and kind render as ("--allow-fs-read=/"): edited by hand?',
    ],
    [
      'a forged flag hiding a wildcard kind',
      (p) => ((p.grants[0].kind = 'prefix'), p),
      'p.json: grants[0].flag: "--allow-fs-read=/app/a.json" is not what the grant\'s scope, path and kind render as ("--allow-fs-read=/app/a.json*"): edited by hand?',
    ],
    [
      'a forged flag hiding another scope',
      (p) => ((p.grants[0].scope = 'fs.write'), p),
      'p.json: grants[0].flag: "--allow-fs-read=/app/a.json" is not what the grant\'s scope, path and kind render as ("--allow-fs-write=/app/a.json"): edited by hand?',
    ],
    [
      'a forged flag on a boolean scope',
      (p) => ((p.grants[3].scope = 'worker'), p),
      'p.json: grants[3].flag: "--allow-child-process" is not what the grant\'s scope, path and kind render as ("--allow-worker"): edited by hand?',
    ],
    [
      'stored flags that are not the grants',
      (p) => ((p.flags[1] = '--allow-fs-read=/'), p),
      'p.json: flags[1]: "--allow-fs-read=/" is not "--allow-fs-read=/app/a.json": "flags" must be the enable flag and then each grant\'s flag',
    ],
    [
      'an extra stored flag',
      (p) => (p.flags.push('--allow-addons'), p),
      'p.json: flags[5]: "--allow-addons" is not one of the grants: "flags" must be the enable flag and then each grant\'s flag',
    ],
    ['a missing stored flag', (p) => (p.flags.pop(), p), 'p.json: flags[4]: missing "--allow-child-process"'],
    ['verified without status verified', (p) => ({ ...p, status: 'app-failed' }), 'p.json: verified: true does not agree with "status": "app-failed"'],
    ['a Node that is not one', (p) => ({ ...p, node: 'twenty-six' }), 'p.json: node: "twenty-six" is not a Node version'],
    ['a Node without the model', (p) => ({ ...p, node: 'v18.20.0' }), 'p.json: node: Node v18.20.0 has no permission model'],
    // a drop plan's text becomes comments in generated code
    [
      'a drop plan note with a line break',
      (p) => ({ ...p, dropPlan: { drops: [], keep: [], verified: true, exercised: true, notes: ['x\nprocess.exit()'] } }),
      'p.json: dropPlan.notes[0]: holds a line break or another control character',
    ],
    // absurd sizes
    [
      'a path longer than PATH_MAX',
      (p) => ((p.grants[0].path = `/${'a'.repeat(5000)}`), p),
      'p.json: grants[0].path: expected string to have <=4096 characters',
    ],
    [
      'a huge message',
      (p) => ((p.grants[0].denials[0].message = 'x'.repeat(70_000)), p),
      'p.json: grants[0].denials[0].message: expected string to have <=65536 characters',
    ],
    ['an absurd count', (p) => ({ ...p, runs: 1e300 }), 'p.json: runs: expected a whole number to be <=9007199254740991'],
    ['an absurd time', (p) => ((p.grants[0].denials[0].time = 1e300), p), 'p.json: grants[0].denials[0].time: expected number to be <=8640000000000000'],
  ];

  it.each(cases)('%s', (_name, mutate, message) => {
    const got = messageOf(mutate(good()));
    expect(got.replace(/ \(and \d+ more problems?\)$/, '')).toBe(message);
    expect(got.split('\n')).toHaveLength(1);
  });

  it('several problems: the first, and how many more', () => {
    const p = good();
    p.grants[0].path = null;
    p.observed = [null];
    expect(messageOf(p)).toBe('p.json: grants[0].path: expected string, received null (and 1 more problem)');
  });

  it('text that is not JSON, and text too large to be a profile', () => {
    expect(() => parseProfile('not json', 'p.json')).toThrow(/^p\.json is not JSON \(write profiles with --format json\)$/);
    expect(() => parseProfile(' '.repeat(MAX_PROFILE_BYTES + 1), 'p.json')).toThrow(/^p\.json is larger than 64 MiB/);
  });
});

describe('pathProblem and jsonLocation', () => {
  it.each<[string, boolean, string | undefined]>([
    ['/a/b', false, undefined],
    ['/', false, undefined],
    ['/tmp/x/', true, undefined],
    ['/tmp/x/', false, 'is not a normalised path (no ".", "..", "//" or trailing "/")'],
    ['/a/./b', false, 'is not a normalised path (no ".", "..", "//" or trailing "/")'],
    ['a/b', false, 'is not an absolute path'],
    ['/a\u0000b', false, 'holds a control character'],
  ])('%j (trailing slash %s) → %s', (p, trailingSlash, problem) => {
    expect(pathProblem(p, { trailingSlash })).toBe(problem);
  });

  it('names keys, indexes and odd keys', () => {
    expect(jsonLocation(['grants', 3, 'path'])).toBe('grants[3].path');
    expect(jsonLocation([])).toBe('(top level)');
    expect(jsonLocation(['a b'])).toBe('["a b"]');
  });
});
