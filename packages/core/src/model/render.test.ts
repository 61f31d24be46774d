import { describe, expect, it } from 'vitest';
import type { CapabilityScope, FsScope, PathKind, Scope } from './types.js';
import { capabilitiesOf, FLAG_OF_SCOPE, parseNodeVersion } from './node-versions.js';
import { parseProfile, type Profile, type ProfileGrant } from './profile.js';
import { renderGrantFlag } from './grants.js';
import { testProfile } from '../../../../test/helpers/profile.js';
import {
  formatRefusesSomeNode,
  nodeOptionsQuote,
  parseTargetVersion,
  RENDER_FORMATS,
  renderProfile,
  type RenderFormat,
  type RenderOptions,
  type RenderedProfile,
} from './render.js';

const caps = (v: string) => capabilitiesOf(parseNodeVersion(v)!);

/** A grant as a saved profile holds it; the stored flag is deliberately stale, to prove it is never used. */
function fs(scope: FsScope, p: string, kind: PathKind = 'file'): ProfileGrant {
  return { scope, path: p, kind, flag: '--allow-fs-read=/STALE', denials: [], notes: [] };
}
function flag(scope: CapabilityScope): ProfileGrant {
  return { scope, flag: FLAG_OF_SCOPE[scope], denials: [], notes: [] };
}

function profile(grants: ProfileGrant[], over: Partial<Profile> = {}): Profile {
  return testProfile({ cwd: '/srv/app', grants, entry: '/srv/app/index.js', flags: ['--permission', '--allow-fs-read=/STALE'], runs: 2, ...over });
}

const render = (p: Profile, v: string, opts: Partial<RenderOptions> = {}) => renderProfile(p, { format: 'flags', target: caps(v), ...opts });
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

describe('parseTargetVersion', () => {
  it.each<[string, string, string]>([
    ['26', 'v26.0.0', '--permission'],
    ['v22.23.3', 'v22.23.3', '--permission'],
    ['22.13', 'v22.13.0', '--permission'],
    // a bare major picks the spelling every release of the line accepts
    ['22', 'v22.0.0', '--experimental-permission'],
    ['20', 'v20.0.0', '--experimental-permission'],
    [' v24.1 ', 'v24.1.0', '--permission'],
  ])('%s → %s (%s)', (spec, raw, enable) => {
    const c = parseTargetVersion(spec);
    expect(c.version.raw).toBe(raw);
    expect(c.enableFlag).toBe(enable);
  });

  it.each<[string, RegExp]>([
    ['18', /no permission model/],
    ['latest', /must look like 26/],
    ['22.x', /must look like 26/],
    ['', /must look like 26/],
  ])('%j is a usage error', (spec, message) => {
    expect(() => parseTargetVersion(spec)).toThrow(message);
  });
});

describe('renderProfile: the target Node', () => {
  const grants = [fs('fs.read', '/srv/app/config.json'), fs('fs.write', '/srv/app/logs', 'created-dir'), flag('child'), flag('net')];

  it.each<[string, string[]]>([
    ['v26.10.0', ['--permission', '--allow-fs-read=/srv/app/config.json', '--allow-fs-write=/srv/app/logs/*', '--allow-child-process', '--allow-net']],
    ['v24.21.0', ['--permission', '--allow-fs-read=/srv/app/config.json', '--allow-fs-write=/srv/app/logs/*', '--allow-child-process']],
    ['v22.23.3', ['--permission', '--allow-fs-read=/srv/app/config.json', '--allow-fs-write=/srv/app/logs/*', '--allow-child-process']],
    ['v22.12.0', ['--experimental-permission', '--allow-fs-read=/srv/app/config.json', '--allow-fs-write=/srv/app/logs/*', '--allow-child-process']],
    // 20 does not grant the entry file itself
    [
      'v20.20.2',
      [
        '--experimental-permission',
        '--allow-fs-read=/srv/app/config.json',
        '--allow-fs-read=/srv/app/index.js',
        '--allow-fs-write=/srv/app/logs/*',
        '--allow-child-process',
      ],
    ],
  ])('%s: flags from path and kind, never the stored strings', (v, expected) => {
    expect(render(profile(grants), v).flags).toEqual(expected);
  });

  it('a profile learned through a command (permlearn run) gets no entry grant on 20: it has no entry file', () => {
    const p = profile([fs('fs.read', '/srv/app/server.js')], { entry: 'npm start', command: ['npm', 'start'] });
    expect(render(p, 'v20.20.2').flags).toEqual(['--experimental-permission', '--allow-fs-read=/srv/app/server.js']);
  });

  it('a command profile has no start script to render', () => {
    const p = profile([fs('fs.read', '/srv/app/server.js')], { entry: 'npm start', command: ['npm', 'start'] });
    expect(() => render(p, 'v26.10.0', { format: 'package-json' })).toThrow(/learned through a command \(npm start\).*--format node-options/);
  });

  it('the network before 26 is a note (unenforced, and --allow-net would be a bad option), not a warning', () => {
    const r = render(profile([flag('net')]), 'v24.21.0');
    expect(r.flags).toEqual(['--permission']);
    expect(r.notes.find((n) => n.code === 'scope-unenforced')).toMatchObject({
      flag: '--allow-net',
      message: expect.stringMatching(/does not restrict the network/),
    });
    expect(codes(r.warnings)).not.toContain('scope-unenforced');
  });

  it.each<[CapabilityScope, string, string]>([
    ['inspector', 'v22.23.3', '--allow-inspector'],
    ['openssl.store', 'v20.20.2', '--allow-openssl-store'],
    ['ffi', 'v24.21.0', '--allow-ffi'],
  ])('%s on %s has no flag: left out with a warning', (scope, v, flagName) => {
    const r = render(profile([flag(scope)]), v);
    expect(r.flags.some((f) => f.startsWith(flagName))).toBe(false);
    expect(r.warnings.find((w) => w.code === 'scope-not-grantable')).toMatchObject({ flag: flagName });
  });

  it.each<[string, string, boolean]>([
    ['v22.23.3', 'v26.10.0', true],
    ['v24.21.0', 'v26.10.0', true],
    ['v20.20.2', 'v24.21.0', false],
    ['v26.10.0', 'v22.23.3', false],
  ])('learned on %s, rendered for %s: warns that the network was never tested = %s', (learned, target, warns) => {
    const r = render(profile([], { node: learned }), target);
    expect(codes(r.warnings).includes('scope-not-learned')).toBe(warns);
  });

  it.each<[string, ProfileGrant[], boolean]>([
    ['v20.20.2', [], true],
    ['v20.20.2', [fs('fs.read', '/srv/app/index.js')], false],
    ['v20.20.2', [fs('fs.read', '/srv/app', 'dir')], false],
    ['v20.20.2', [fs('fs.read', '/srv/app/index.js', 'missing')], false],
    ['v20.20.2', [fs('fs.read', '/srv/app/', 'prefix')], false],
    ['v22.23.3', [], false],
  ])('%s with %j: the entry grant is added = %s', (v, gs, added) => {
    const r = render(profile(gs), v);
    expect(r.flags.filter((f) => f.includes('index.js')).length).toBe(added || gs.some((g) => g.path === '/srv/app/index.js') ? 1 : 0);
    expect(codes(r.notes).includes('entry-granted')).toBe(added);
  });

  it('an unmeasured line gets a note', () => {
    expect(render(profile([]), 'v23.11.0').notes.find((n) => n.code === 'unmeasured-version')?.message).toMatch(/Node 23 .*like Node 22/);
    expect(codes(render(profile([]), 'v26.10.0').notes)).not.toContain('unmeasured-version');
  });
});

describe('renderProfile: --relative and another cwd', () => {
  it.each<[string, PathKind, string, string]>([
    ['/repo/app/config.json', 'file', '--allow-fs-read=./config.json', 'a file under the cwd'],
    ['/repo/app', 'dir', '--allow-fs-read=.', 'the cwd itself'],
    ['/repo/app/lib', 'dir', '--allow-fs-read=./lib', 'a directory'],
    ['/repo/app/logs', 'created-dir', '--allow-fs-read=./logs/*', 'a directory made at run time'],
    ['/repo/app', 'created-dir', '--allow-fs-read=./*', 'the cwd as dir/*'],
    ['/repo/app/tmp-', 'prefix', '--allow-fs-read=./tmp-*', 'an mkdtemp prefix'],
    ['/repo/app/cache/', 'prefix', '--allow-fs-read=./cache/*', 'a prefix ending in a slash keeps it'],
    ['/repo/shared/s.json', 'file', '--allow-fs-read=../shared/s.json', 'outside the cwd, inside the project'],
    ['/repo/ap', 'prefix', '--allow-fs-read=../ap*', 'a prefix outside the cwd'],
    ['/repo/apps/x', 'file', '--allow-fs-read=../apps/x', 'a sibling with the same prefix is not under the cwd'],
    ['/etc/ssl/certs', 'dir', '--allow-fs-read=/etc/ssl/certs', 'outside the project: absolute'],
    ['/repository/x', 'file', '--allow-fs-read=/repository/x', 'a sibling of the project with the same prefix: absolute'],
  ])('%s (%s) → %s: %s', (p, kind, expected) => {
    const r = render(profile([fs('fs.read', p, kind)], { cwd: '/repo/app', entry: '/repo/app/index.js' }), 'v26.10.0', { relative: true, root: '/repo' });
    expect(r.flags).toEqual(['--permission', expected]);
  });

  it('paths outside the project stay absolute, each with a note', () => {
    const r = render(profile([fs('fs.read', '/etc/hosts'), fs('fs.read', '/srv/app/a.json')]), 'v26.10.0', { relative: true });
    expect(r.flags).toEqual(['--permission', '--allow-fs-read=/etc/hosts', '--allow-fs-read=./a.json']);
    expect(r.notes.filter((n) => n.code === 'outside-project').map((n) => n.flag)).toEqual(['--allow-fs-read=/etc/hosts']);
  });

  it('without a root, the project is the cwd: nothing climbs out of it', () => {
    const r = render(profile([fs('fs.read', '/shared/x.json')]), 'v26.10.0', { relative: true });
    expect(r.flags).toEqual(['--permission', '--allow-fs-read=/shared/x.json']);
  });

  it('Node 20 gets the entry as a relative grant too', () => {
    const r = render(profile([]), 'v20.20.2', { relative: true });
    expect(r.flags).toEqual(['--experimental-permission', '--allow-fs-read=./index.js']);
    expect(r.entry).toBe('index.js');
  });

  it('--cwd moves the project: its paths follow, others stay', () => {
    const p = profile(
      [
        fs('fs.read', '/old/app/config.json'),
        fs('fs.read', '/old/node_modules/dep', 'dir'),
        fs('fs.read', '/usr/share/zoneinfo', 'dir'),
        fs('fs.write', '/old/app/tmp-', 'prefix'),
      ],
      {
        cwd: '/old/app',
        entry: '/old/app/index.js',
      },
    );
    const r = render(p, 'v26.10.0', { cwd: '/new/app', root: '/new' });
    expect(r.flags).toEqual([
      '--permission',
      '--allow-fs-read=/new/app/config.json',
      '--allow-fs-read=/new/node_modules/dep',
      '--allow-fs-read=/usr/share/zoneinfo',
      '--allow-fs-write=/new/app/tmp-*',
    ]);
    expect(r.entry).toBe('/new/app/index.js');
    expect(render(p, 'v26.10.0', { cwd: '/new/app', root: '/new', relative: true }).flags).toEqual([
      '--permission',
      // sorted by absolute path; order does not matter to Node once no grant covers another
      '--allow-fs-read=./config.json',
      '--allow-fs-read=../node_modules/dep',
      '--allow-fs-read=/usr/share/zoneinfo',
      '--allow-fs-write=./tmp-*',
    ]);
  });

  it('a root that does not hold the cwd is a usage error', () => {
    expect(() => render(profile([]), 'v26.10.0', { root: '/elsewhere' })).toThrow(/does not contain the cwd/);
  });
});

describe('renderProfile: formats', () => {
  const p = profile([fs('fs.read', '/srv/app/my config.json'), fs('fs.write', '/srv/app/logs', 'created-dir'), flag('child')], {
    args: ['--port', '8080', 'a b'],
  });
  const text = (format: RenderFormat, v = 'v26.10.0', opts: Partial<RenderOptions> = {}) => render(p, v, { format, ...opts }).text;

  it('flags: one shell-quoted line', () => {
    expect(text('flags')).toBe("--permission '--allow-fs-read=/srv/app/my config.json' '--allow-fs-write=/srv/app/logs/*' --allow-child-process\n");
  });

  it('args: one flag per line, unquoted', () => {
    expect(text('args')).toBe('--permission\n--allow-fs-read=/srv/app/my config.json\n--allow-fs-write=/srv/app/logs/*\n--allow-child-process\n');
    expect(() => render(profile([fs('fs.read', '/srv/app/a\nb')]), 'v26.10.0', { format: 'args' })).toThrow(/line break/);
  });

  it('node-options: space separated, a path with a space in double quotes', () => {
    expect(text('node-options', 'v20.20.2')).toBe(
      '--experimental-permission --allow-fs-read=/srv/app/index.js "--allow-fs-read=/srv/app/my config.json" --allow-fs-write=/srv/app/logs/* --allow-child-process\n',
    );
  });

  it('config: the permission namespace, lists for paths, true for the rest', () => {
    expect(JSON.parse(text('config', 'v26.10.0', { relative: true }))).toEqual({
      $schema: 'https://nodejs.org/dist/v26.10.0/docs/node-config-schema.json',
      permission: { permission: true, 'allow-fs-read': ['./my config.json'], 'allow-fs-write': ['./logs/*'], 'allow-child-process': true },
    });
    const r = render(p, 'v26.10.0', { format: 'config' });
    expect(codes(r.warnings)).toContain('config-children');
    expect(codes(r.notes)).toEqual(expect.arrayContaining(['usage', 'absolute-paths']));
    // config files do not pass grants through NODE_OPTIONS, so the space warning is not theirs
    expect(codes(r.warnings)).not.toContain('space-in-child-options');
  });

  it.each<[string, RegExp]>([
    ['v24.21.0', /does not turn the model on/],
    ['v22.23.3', /silently ignores/],
    ['v20.20.2', /no config file/],
  ])('config for %s is refused: %s', (v, message) => {
    expect(() => text('config', v)).toThrow(message);
  });

  it('the formats some Node line refuses, which the CLI checks before learning: config and drop-plan', () => {
    expect(RENDER_FORMATS.filter(formatRefusesSomeNode)).toEqual(['config', 'drop-plan']);
  });

  it('package-json: a start script with the entry relative to the cwd and the app args', () => {
    const out = JSON.parse(text('package-json', 'v26.10.0', { relative: true })) as { scripts: { start: string } };
    expect(out.scripts.start).toBe(
      "node --permission '--allow-fs-read=./my config.json' '--allow-fs-write=./logs/*' --allow-child-process index.js --port 8080 'a b'",
    );
    expect(codes(render(p, 'v26.10.0', { format: 'package-json' }).notes)).toContain('absolute-paths');
  });

  it('json: the profile as learned, plus the rendering with its findings', () => {
    const out = JSON.parse(text('json', 'v22.23.3')) as RenderedProfile;
    expect(out.flags).toEqual(p.flags);
    expect(out.rendered.node).toBe('v22.23.3');
    expect(out.rendered.flags[0]).toBe('--permission');
    expect(codes(out.rendered.warnings)).toEqual(expect.arrayContaining(['child-process', 'space-in-child-options']));
    expect(codes(out.rendered.notes)).toEqual(expect.arrayContaining(['net-unenforced', 'sqlite-unchecked', 'env-file-unchecked']));
    // and it reads back as a profile, once its stored flags are the grants' own (these are stale on purpose)
    expect(() => parseProfile(text('json'), 'p.json')).toThrow(/^p\.json: grants\[0\]\.flag: "--allow-fs-read=\/STALE" is not what/);
    const grants = p.grants.map((g) => ({ ...g, flag: renderGrantFlag(g) }));
    const consistent = { ...p, grants, flags: ['--permission', ...grants.map((g) => g.flag)] };
    expect(parseProfile(render(consistent, 'v26.10.0', { format: 'json' }).text, 'p.json').grants).toEqual(grants);
  });
});

describe('renderProfile: warnings about children and risks', () => {
  it.each<[string, boolean, boolean, string[]]>([
    ['v22.23.3', true, false, ['space-in-child-options']],
    ['v26.10.0', true, true, ['space-in-child-options', 'relative-in-children']],
    // 20 does not pass flags to spawned children, so nothing breaks there
    ['v20.20.2', true, true, []],
    ['v26.10.0', false, true, []],
  ])('%s, child granted %s, relative %s → %j', (v, child, relative, expected) => {
    const gs = [fs('fs.read', '/srv/app/my dir', 'dir'), ...(child ? [flag('child')] : [])];
    const found = codes(render(profile(gs), v, { relative }).warnings).filter((c) => c === 'space-in-child-options' || c === 'relative-in-children');
    expect(found).toEqual(expected);
  });

  it.each<[ProfileGrant, string | undefined, RegExp?]>([
    [flag('child'), 'child-process', /non-Node children/],
    [flag('addon'), 'native-code', /native code/],
    [flag('worker'), 'worker'],
    [fs('fs.write', '/srv/app', 'dir'), 'write-app-dir'],
    [fs('fs.write', '/srv/app/src', 'created-dir'), 'write-code', /lib\.js/],
    [fs('fs.write', '/srv/app/index.js'), 'write-code', /index\.js/],
    [fs('fs.write', '/srv/app/node_modules/dep/cache', 'dir'), 'write-node-modules'],
    [fs('fs.write', '/tmp/app-', 'prefix'), 'wildcard', /every path starting with \/tmp\/app-/],
    [fs('fs.read', '/srv/app/tmp-', 'prefix'), 'wildcard'],
    [fs('fs.write', '/srv/app/logs', 'created-dir'), undefined],
    [fs('fs.read', '/srv/app/src', 'dir'), undefined],
  ])('%j → %s', (g, code, message) => {
    const r = render(profile([g, fs('fs.read', '/srv/app/src/lib.js')]), 'v26.10.0');
    const risk = r.warnings.find((w) => w.flag !== undefined && !w.flag.includes('lib.js'));
    expect(risk?.code).toBe(code);
    if (message) expect(risk?.message).toMatch(message);
  });

  it('child processes on Node 20: Node children started with spawn are not restricted either', () => {
    expect(render(profile([flag('child')]), 'v20.20.2').warnings[0]?.message).toMatch(/spawn\/exec/);
    expect(render(profile([flag('child')]), 'v22.23.3').warnings[0]?.message).not.toMatch(/spawn\/exec/);
  });

  it.each<[string, string[]]>([
    ['v20.20.2', ['net-unenforced', 'env-file-unchecked']],
    ['v24.21.0', ['net-unenforced', 'sqlite-unchecked', 'env-file-unchecked']],
    ['v26.10.0', ['sqlite-unchecked', 'env-file-unchecked']],
  ])('the model holes on %s: %j', (v, expected) => {
    const holes = ['net-unenforced', 'sqlite-unchecked', 'env-file-unchecked'];
    expect(codes(render(profile([]), v).notes).filter((c) => holes.includes(c))).toEqual(expected);
  });
});

describe('renderProfile agrees with the learned flags on the same Node', () => {
  it('a profile re-rendered for its own Node and cwd gives its own flags', () => {
    const gs = [
      fs('fs.read', '/srv/app', 'dir'),
      fs('fs.read', '/etc/hosts'),
      fs('fs.write', '/srv/app/logs', 'created-dir'),
      fs('fs.write', '/tmp/x-', 'prefix'),
      flag('child'),
      flag('worker'),
      flag('net'),
    ];
    const learned = [
      '--permission',
      '--allow-fs-read=/etc/hosts',
      '--allow-fs-read=/srv/app',
      '--allow-fs-write=/srv/app/logs/*',
      '--allow-fs-write=/tmp/x-*',
      '--allow-child-process',
      '--allow-worker',
      '--allow-net',
    ];
    expect(render(profile(gs, { flags: learned }), 'v26.10.0').flags).toEqual(learned);
  });
});

describe('nodeOptionsQuote', () => {
  it.each<[string, string]>([
    ['--permission', '--permission'],
    ['--allow-fs-read=/x/*', '--allow-fs-read=/x/*'],
    ['--allow-fs-read=/x/q r', '"--allow-fs-read=/x/q r"'],
    ['--allow-fs-read=/x/"q"', '"--allow-fs-read=/x/\\"q\\""'],
    ['--allow-fs-read=/x/a\\b', '"--allow-fs-read=/x/a\\\\b"'],
    ["--allow-fs-read=/x/it's", "--allow-fs-read=/x/it's"],
  ])('%s → %s', (arg, quoted) => {
    expect(nodeOptionsQuote(arg)).toBe(quoted);
  });
});

describe('renderProfile: a profile verified with its flags in NODE_OPTIONS', () => {
  // Learned for an app whose parent rebuilds its children's execArgv: only NODE_OPTIONS reaches them.
  const p = profile([fs('fs.read', '/srv/app/data', 'dir'), flag('child')], { delivery: 'node-options' });
  const env = "NODE_OPTIONS='--permission --allow-fs-read=/srv/app/data --allow-child-process'";

  it('flags and package-json put the flags in NODE_OPTIONS; the plain command line is never offered', () => {
    expect(render(p, 'v26.10.0').text).toBe(`${env}\n`);
    const script = JSON.parse(render(p, 'v26.10.0', { format: 'package-json' }).text) as { scripts: { start: string } };
    expect(script.scripts.start).toBe(`${env} node index.js`);
  });

  it('args and config, which cannot say NODE_OPTIONS, warn that children would lose the grants', () => {
    for (const format of ['args', 'config'] as const) {
      expect(codes(render(p, 'v26.10.0', { format }).warnings)).toContain('children-need-node-options');
    }
    expect(codes(render(profile([flag('child')]), 'v26.10.0', { format: 'args' }).warnings)).not.toContain('children-need-node-options');
  });
});
