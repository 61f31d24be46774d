// Property: whatever grants a profile holds (learned, hand-edited, merged), no output format carries one
// that breaks the breadth rule. Each output is parsed back the way Node or a shell would read it.
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapabilityScope, FsScope, PathKind, Scope } from './types.js';
import { capabilitiesOf, parseNodeVersion } from './node-versions.js';
import type { ProfileGrant } from './profile.js';
import { testProfile } from '../../../../test/helpers/profile.js';
import { RENDER_FORMATS, renderProfile } from './render.js';
import { breadthViolation } from './breadth.js';
import { renderGrantPath } from './paths/index.js';
import { PermlearnError } from '../errors.js';

const HOME = '/home/u';
const CWD = '/home/u/work/app';
const TMP = '/tmp';
const ctx = { homedir: HOME, root: CWD, tmpdir: TMP };

// Paths that are fine, forbidden, or awkward (spaces, quotes, '*'), and kinds that make each mean more or less.
const PATHS = [
  '/',
  '/etc',
  '/tmp',
  '/home',
  HOME,
  '/home/u/work',
  CWD,
  `${CWD}/logs`,
  `${CWD}/x*`,
  `${CWD}/*`,
  `${CWD}/a b`,
  `${CWD}/it's`,
  `${CWD}/node_modules`,
  '/etc/hosts',
  '/.dockerenv',
  '/t',
  '/tmp/',
  '/tmp/app-',
  `${HOME}/.cache/tool`,
  '/home/u/wo',
  `${CWD}/cache/`,
  '/srv/data',
];
const KINDS: PathKind[] = ['file', 'dir', 'missing', 'created-dir', 'prefix'];
const grantArb: fc.Arbitrary<ProfileGrant> = fc.oneof(
  fc
    .record({ scope: fc.constantFrom<FsScope>('fs.read', 'fs.write'), path: fc.constantFrom(...PATHS), kind: fc.constantFrom(...KINDS) })
    .map((g) => ({ ...g, flag: '--allow-fs-read=/STALE', denials: [], notes: [] })),
  fc.constantFrom<CapabilityScope>('child', 'worker', 'addon', 'net').map((scope) => ({ scope, flag: '', denials: [], notes: [] })),
);

/** Split a POSIX shell line as the shell would (only the quoting permlearn's shellQuote produces). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '\\') {
      cur += line[++i];
      inWord = true;
    } else if (ch === ' ') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Split a NODE_OPTIONS value as Node does (double quotes, backslash escapes inside them). */
function nodeOptionsWords(value: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return words;
}

/** The file-system grant values an output hands Node, whatever its format. */
function fsValues(format: string, text: string): string[] {
  const fromFlags = (flags: string[]) => flags.filter((f) => f.startsWith('--allow-fs-')).map((f) => f.slice(f.indexOf('=') + 1));
  switch (format) {
    case 'flags':
      return fromFlags(shellWords(text.trim()));
    case 'args':
      return fromFlags(text.trim().split('\n'));
    case 'node-options':
      return fromFlags(nodeOptionsWords(text.trim()));
    case 'json':
      return fromFlags((JSON.parse(text) as { rendered: { flags: string[] } }).rendered.flags);
    case 'config': {
      const p = (JSON.parse(text) as { permission: Record<string, unknown> }).permission;
      return [...((p['allow-fs-read'] as string[] | undefined) ?? []), ...((p['allow-fs-write'] as string[] | undefined) ?? [])];
    }
    case 'package-json':
      return fromFlags(shellWords((JSON.parse(text) as { scripts: { start: string } }).scripts.start));
    case 'drop-plan':
      return fromFlags(shellWords(text.split('\n')[0]!.replace(/^\/\/ node /, '')));
    default:
      throw new Error(`unknown format ${format}`);
  }
}

/** What Node makes of a value: a trailing `*` is a wildcard; a plain path is judged as the folder it may be. */
function asGrant(value: string, cwd: string): { path: string; kind: PathKind } {
  const abs = path.isAbsolute(value) ? value : `${cwd}/${value.replace(/^\.\//, '')}`;
  if (abs.endsWith('/*')) return { path: abs.slice(0, -2) || '/', kind: 'created-dir' };
  if (abs.endsWith('*')) return { path: abs.slice(0, -1), kind: 'prefix' };
  return { path: abs, kind: 'dir' };
}

describe('no output format ever carries a grant that breaks the breadth rule', () => {
  const caps = capabilitiesOf(parseNodeVersion('v26.10.0')!);
  it.each(RENDER_FORMATS)('%s', (format) => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 8 }), fc.boolean(), (grants, relative) => {
        const profile = testProfile({
          cwd: CWD,
          entry: `${CWD}/index.js`,
          grants,
          root: CWD,
          ...(format === 'drop-plan' ? { dropPlan: { drops: [], keep: [], verified: true, exercised: true, notes: [] } } : {}),
        });
        let text: string;
        try {
          text = renderProfile(profile, { format, target: caps, relative, breadth: { homedir: HOME, tmpdir: TMP } }).text;
        } catch (err) {
          // Refusing is allowed, but only for the breadth rule (or a format that cannot express a name).
          expect(err).toBeInstanceOf(PermlearnError);
          const kind = (err as PermlearnError).kind;
          expect(kind === 'too-broad' || /line break/.test((err as Error).message)).toBe(true);
          if (kind === 'too-broad') expect(grants.some((g) => breadthViolation(g, ctx) !== undefined)).toBe(true);
          return;
        }
        // A rendered grant is judged as Node reads it: plain paths as folders, except the exact files the
        // profile named (an exact file directly under / is allowed).
        const files = new Set(grants.filter((g) => g.kind === 'file' || g.kind === 'missing').map((g) => renderGrantPath(g.path!, g.kind!)));
        for (const value of fsValues(format, text)) {
          const g = asGrant(value, CWD);
          const kind = g.kind === 'dir' && files.has(g.path) ? 'file' : g.kind;
          expect(breadthViolation({ scope: 'fs.read', path: g.path, kind }, ctx), `${format}: ${value}`).toBeUndefined();
        }
      }),
      { numRuns: 400 },
    );
  });

  it('an accepted grant is rendered, and only that one', () => {
    const profile = testProfile({
      cwd: CWD,
      entry: `${CWD}/index.js`,
      root: CWD,
      grants: [{ scope: 'fs.read', path: HOME, kind: 'dir', flag: '', denials: [], notes: [] }],
    });
    const opts = { format: 'flags' as const, target: caps, breadth: { homedir: HOME, tmpdir: TMP, accept: [HOME] } };
    expect(renderProfile(profile, opts).flags).toEqual(['--permission', `--allow-fs-read=${HOME}`]);
    expect(() => renderProfile(profile, { ...opts, breadth: { homedir: HOME, tmpdir: TMP, accept: [`${HOME}/*`] } })).toThrow(
      /refusing to render --allow-fs-read=\/home\/u: \/home\/u would grant the home folder/,
    );
  });
});
