// What a grant exposes today: how many files it covers, and which of them look like secrets.
// This walks the real file system, so it lives with the runner, not the pure model. The walks of
// folders are a plain readdir with the patterns compiled once (fast-glob compiled them per call, and
// the walks were most of the CPU a learn of a service with a dependency tree spent); fast-glob is
// loaded only for a prefix grant.
import { readdirSync, realpathSync, type Dirent } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type FastGlob from 'fast-glob';
import type { Exposure } from '../model/profile.js';
import type { PathKind } from '../model/types.js';

/** File names (and folders) that hold credentials more often than not. */
export const SECRET_PATTERNS: readonly string[] = [
  '**/.env',
  '**/.env.*',
  '**/.npmrc',
  '**/.yarnrc.yml',
  '**/.netrc',
  '**/.git-credentials',
  '**/.pgpass',
  '**/.htpasswd',
  '**/*.pem',
  '**/*.key',
  '**/*.p12',
  '**/*.pfx',
  '**/*.keystore',
  '**/*.jks',
  '**/id_rsa*',
  '**/id_dsa*',
  '**/id_ecdsa*',
  '**/id_ed25519*',
  '**/.ssh/**',
  '**/.aws/credentials',
  '**/.aws/config',
  '**/.azure/**',
  '**/.config/gcloud/**',
  '**/.kube/config',
  '**/.docker/config.json',
  '**/credentials.json',
  '**/service-account*.json',
  '**/secrets.*',
];

/** Example and template files that only look like secrets. */
const NOT_SECRETS = ['**/.env.example', '**/.env.sample', '**/.env.template', '**/*.example', '**/*.sample'];

const WALK = { dot: true, onlyFiles: true, followSymbolicLinks: false, suppressErrors: true, caseSensitiveMatch: false } as const;

let fastGlob: typeof FastGlob | undefined;
const fg = (): typeof FastGlob => (fastGlob ??= createRequire(import.meta.url)('fast-glob') as typeof FastGlob);

/** Folders no walk for secrets or links goes into: dependencies ship test keys, and .git is not the app's. */
const SKIPPED = new Set(['node_modules', '.git']);

/**
 * Every entry under `dir` (paths relative to it, `/`-separated), without following symbolic links;
 * entries named in `skip` are passed over, and so is what is in them. So are unreadable folders.
 */
function walk(dir: string, skip: ReadonlySet<string>, visit: (rel: string, entry: Dirent) => void): void {
  const pending: string[] = [''];
  while (pending.length > 0) {
    const rel = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(rel ? path.join(dir, rel) : dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (skip.has(e.name)) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      visit(child, e);
      if (e.isDirectory()) pending.push(child);
    }
  }
}

const secretCache = new Map<string, string[]>();

/** Secret-looking files under a directory (relative to it, sorted), outside node_modules and .git. */
export function secretsUnder(dir: string): string[] {
  let found = secretCache.get(dir);
  if (!found) {
    found = [];
    const out = found;
    walk(dir, SKIPPED, (rel, e) => {
      if (e.isFile() && looksSecret(rel)) out.push(rel);
    });
    found.sort();
    secretCache.set(dir, found);
  }
  return found;
}

/** A pattern above as a regular expression (`**` segments, `*` within a segment), case-insensitive. */
function patternRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (pattern.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('/**', i) && i + 3 === pattern.length) {
      re += '/.*';
      i += 2;
    } else if (ch === '*') re += '[^/]*';
    else re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

const SECRET_RES = SECRET_PATTERNS.map(patternRegExp);
const NOT_SECRET_RES = NOT_SECRETS.map(patternRegExp);

/** A relative path that looks like a secret file. */
function looksSecret(rel: string): boolean {
  return SECRET_RES.some((r) => r.test(rel)) && !NOT_SECRET_RES.some((r) => r.test(rel));
}

/** Does this path look like a secret file? (The same patterns, matched without touching the disk.) */
export function matchesSecret(abs: string): boolean {
  return looksSecret(abs.replace(/^\/+/, ''));
}

/**
 * How many files a grant covers today, which of them look like secrets, and the symbolic links through
 * which it reaches further than its path says. Node checks the path as written and follows links
 * without checking their targets, so a link inside a granted folder extends the grant to its target.
 */
export function exposureOf(grantPath: string, kind: PathKind, root?: string): Exposure {
  const exposure = countOf(grantPath, kind);
  const links = root === undefined ? [] : linksOf(grantPath, kind, root);
  return links.length ? { ...exposure, links } : exposure;
}

function countOf(grantPath: string, kind: PathKind): Exposure {
  if (kind === 'dir' || kind === 'created-dir') {
    const inDeps = grantPath.split('/').includes('node_modules');
    let files = 0;
    walk(grantPath, new Set(), (_, e) => {
      if (e.isFile()) files++;
    });
    return { files, secrets: inDeps ? [] : secretsUnder(grantPath).map((f) => path.join(grantPath, f)) };
  }
  if (kind === 'prefix') {
    const dir = path.dirname(`${grantPath}x`);
    const start = path.basename(`${grantPath}x`).slice(0, -1);
    const glob = fg();
    const matches = glob.sync(`${glob.escapePath(start)}*/**`, { ...WALK, cwd: dir }).concat(glob.sync(`${glob.escapePath(start)}*`, { ...WALK, cwd: dir }));
    const files = new Set(matches).size;
    return { files, secrets: [...new Set(matches)].filter((f) => matchesSecret(path.join(dir, f))).map((f) => path.join(dir, f)) };
  }
  if (kind === 'missing') return { files: 0, secrets: [] };
  return { files: 1, secrets: matchesSecret(grantPath) ? [grantPath] : [] };
}

/** At most this many links are listed for one grant. */
const MAX_LINKS = 20;

function realpathOf(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Links that take a grant outside the project, or back up to a folder holding the grant (`loop -> .`
 * reaches the project root by another name): the grant's own path when a link is on it, and for a
 * folder the links inside it. Links a package manager makes inside node_modules are its business.
 */
export function linksOf(grantPath: string, kind: PathKind, root: string): { link: string; target: string }[] {
  if (kind === 'prefix' || kind === 'missing') return [];
  const realRoot = realpathOf(root) ?? root;
  const inProject = (t: string) => t === realRoot || t.startsWith(`${realRoot}/`);
  const found: { link: string; target: string }[] = [];
  const consider = (link: string, target: string | undefined, within: string) => {
    if (target === undefined) return;
    const loops = within === target || within.startsWith(`${target}/`);
    if (!inProject(target) || loops) found.push({ link, target });
  };
  const self = realpathOf(grantPath);
  if (self !== undefined && self !== grantPath) consider(grantPath, self, realpathOf(path.dirname(grantPath)) ?? path.dirname(grantPath));
  if ((kind === 'dir' || kind === 'created-dir') && !grantPath.split('/').includes('node_modules')) {
    const realGrant = self ?? grantPath;
    walk(grantPath, SKIPPED, (rel, e) => {
      if (found.length >= MAX_LINKS || !e.isSymbolicLink()) return;
      const link = path.join(grantPath, rel);
      consider(link, realpathOf(link), path.join(realGrant, path.dirname(rel)));
    });
  }
  return found.slice(0, MAX_LINKS);
}
