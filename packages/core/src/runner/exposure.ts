// What a grant exposes today: how many files it covers, and which of them look like secrets.
// This walks the real file system (with fast-glob), so it lives with the runner, not the pure model.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
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

/** Dependencies ship test keys and the like: they are not the user's secrets. */
const SECRET_SCAN_IGNORE = ['**/node_modules/**', '**/.git/**', ...NOT_SECRETS];

const secretCache = new Map<string, string[]>();

/** Secret-looking files under a directory (relative to it, sorted), outside node_modules and .git. */
export function secretsUnder(dir: string): string[] {
  let found = secretCache.get(dir);
  if (!found) {
    found = fg.sync([...SECRET_PATTERNS], { ...WALK, cwd: dir, ignore: SECRET_SCAN_IGNORE }).sort();
    secretCache.set(dir, found);
  }
  return found;
}

/** Does this path look like a secret file? (The same patterns, matched without touching the disk.) */
export function matchesSecret(abs: string): boolean {
  const rel = abs.replace(/^\/+/, '');
  return SECRET_PATTERNS.some((p) => globMatch(p, rel)) && !NOT_SECRETS.some((p) => globMatch(p, rel));
}

/** A tiny matcher for the patterns above (`**` segments, `*` within a segment), case-insensitive. */
function globMatch(pattern: string, rel: string): boolean {
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
  return new RegExp(`^${re}$`, 'i').test(rel);
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
    const files = fg.sync('**', { ...WALK, cwd: grantPath }).length;
    return { files, secrets: inDeps ? [] : secretsUnder(grantPath).map((f) => path.join(grantPath, f)) };
  }
  if (kind === 'prefix') {
    const dir = path.dirname(`${grantPath}x`);
    const start = path.basename(`${grantPath}x`).slice(0, -1);
    const matches = fg.sync(`${fg.escapePath(start)}*/**`, { ...WALK, cwd: dir }).concat(fg.sync(`${fg.escapePath(start)}*`, { ...WALK, cwd: dir }));
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
    const entries = fg.sync('**', { dot: true, onlyFiles: false, followSymbolicLinks: false, suppressErrors: true, objectMode: true, cwd: grantPath, ignore: ['**/node_modules/**', '**/.git/**'] });
    const realGrant = self ?? grantPath;
    for (const e of entries) {
      if (found.length >= MAX_LINKS) break;
      if (!e.dirent.isSymbolicLink()) continue;
      const link = path.join(grantPath, e.path);
      consider(link, realpathOf(link), path.join(realGrant, path.dirname(e.path)));
    }
  }
  return found.slice(0, MAX_LINKS);
}
