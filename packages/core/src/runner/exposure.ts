// What a grant exposes today: how many files it covers, and which of them look like secrets.
// This walks the real file system (with fast-glob), so it lives with the runner, not the pure model.
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

/** How many files a grant covers today and which of them look like secrets. */
export function exposureOf(grantPath: string, kind: PathKind): Exposure {
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
