// The folder a server maps requests onto. A static middleware (express.static, serve-static, sirv) stats
// or reads `<folder><request path>`: the exercise's `GET /css/site.css` reads `public/css/site.css`, and
// `GET /api/posts`, which a later route answers, stats `public/api/posts` first. Granted as learned, the
// one file (or its folder `public/css`) answers the exercised URLs and the middleware fails every other
// with a 500, the home page among them. A read whose path is a requested URL's path below a folder of
// the project shows that folder is the one served: it is granted whole (`F/*` when it is not there).
// The URLs are the user's own (the exercise commands, --ready-url), never anything the app printed. Pure.
import type { Denial, FsProbe } from '../types.js';
import { isStrictlyUnder, outerNodeModulesOf, resourcePath } from '../paths/index.js';
import type { LearnOptions } from './types.js';

/**
 * The request paths in the user's commands: each http(s) URL's path, decoded, when it names at least
 * one segment (`/` would match any path).
 */
export function requestPaths(commands: readonly string[]): string[] {
  const out = new Set<string>();
  for (const command of commands) {
    for (const m of command.matchAll(/\bhttps?:\/\/[^\s'"`<>\\]+/g)) {
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(m[0]).pathname);
      } catch {
        continue;
      }
      const trimmed = pathname.replace(/\/+$/, '');
      if (trimmed.length > 1 && !trimmed.includes('\0')) out.add(trimmed);
    }
  }
  return [...out];
}

export interface ServedFolder {
  folder: string;
  /** The request path that mapped onto it. */
  url: string;
}

/**
 * The folder of the project a read maps a request onto: the path is `<folder><url>`, or that followed
 * by an extension or a deeper name (`.html`, `/index.html`, as static servers try), with the folder
 * strictly inside `root`, outside node_modules (whose reads the granularity settles) and holding no
 * secret. Undefined otherwise.
 */
export function servedFolderOf(d: Denial, urls: readonly string[], root: string, fs: FsProbe): ServedFolder | undefined {
  if (d.permission !== 'FileSystemRead' || d.resource === '' || urls.length === 0) return undefined;
  const p = resourcePath(d);
  if (!isStrictlyUnder(p, root) || outerNodeModulesOf(p) !== undefined) return undefined;
  let best: ServedFolder | undefined;
  for (const url of urls) {
    for (let at = p.indexOf(url); at > 0; at = p.indexOf(url, at + 1)) {
      const next = p[at + url.length];
      if (next !== undefined && next !== '/' && next !== '.') continue;
      const folder = p.slice(0, at);
      if (!isStrictlyUnder(folder, root) || (fs.secretsUnder?.(folder) ?? []).length > 0) continue;
      // The longest URL that matches names the deepest folder: the narrowest answer.
      if (!best || folder.length > best.folder.length) best = { folder, url };
    }
  }
  return best;
}

/** The same from a learn's options: the user's request paths and project root, unless exact paths were asked for. */
export function requestFolderOf(d: Denial, opts: Pick<LearnOptions, 'generalise' | 'fs'>): ServedFolder | undefined {
  const g = opts.generalise;
  if (!g?.requests?.length || g.granularity === 'file') return undefined;
  return servedFolderOf(d, g.requests, g.root, opts.fs);
}
