// A folder that was not there, searched by name: a static file server in development mode (sirv, which
// json-server uses) looks each request's path up under its folder, `public/<path>`, `<path>.html`,
// `<path>/index.html`, and answers 500 when a lookup is denied. The names come from the request, so
// granting the ones learning saw serves the exercised URLs and fails every other. One asker looking
// under one missing folder of the project by two names or more is searching that folder: the folder is
// granted as `F/*`, which covers any name in it, and the folder itself should it appear (not with
// `--granularity file`, which asks for exactly the paths used). Pure.
import path from 'node:path';
import type { Denial, FsProbe, FsScope } from '../types.js';
import { isStrictlyUnder, resourcePath } from '../paths/index.js';
import { initialKind } from '../initial-state.js';
import { readsMissing, siteFile } from './candidates.js';
import type { LearnOptions } from './types.js';

/** The root a plan searches missing folders under: the project's, unless exact paths were asked for. */
export function searchRoot(opts: Pick<LearnOptions, 'generalise'>): string | undefined {
  return opts.generalise && opts.generalise.granularity !== 'file' ? opts.generalise.root : undefined;
}

/** A lookup of a path that was not there, by a call site of the app's. */
function isLookup(d: Denial, fs: FsProbe): boolean {
  return d.permission === 'FileSystemRead' && d.site !== undefined && d.resource !== '' && (d.existed === false || readsMissing(d, fs));
}

/**
 * The folder of the project that `target` is under and that was not there before learning: the
 * outermost one, whose own folder was. Undefined when the path's own folder was there (a file looked
 * up in a folder that exists is an exact name), when a file stands where a folder would, or outside
 * `root`. `cache` keeps each folder's kind for the many lookups of one plan.
 */
export function missingFolderOf(target: string, root: string, fs: FsProbe, cache?: Map<string, string>): string | undefined {
  if (!isStrictlyUnder(target, root)) return undefined;
  const parts = path.relative(root, target).split('/');
  let folder = root;
  for (let i = 0; i < parts.length - 1; i++) {
    folder = `${folder}/${parts[i]}`;
    let kind = cache?.get(folder);
    if (kind === undefined) {
      kind = initialKind(fs, folder);
      cache?.set(folder, kind);
    }
    if (kind === 'missing') return folder;
    if (kind === 'file') return undefined;
  }
  return undefined;
}

/** Who asked: the call site without its column and its nearest caller's file:line (as sameAsker compares them). */
function askerKey(d: Denial): string {
  const caller = d.callers?.[0];
  return `${siteFile(d.site!)}\u0000${caller === undefined ? '' : siteFile(caller)}`;
}

export interface FolderSearch {
  /** The missing folder searched. */
  folder: string;
  /** The names looked up in it (relative to it), the first few. */
  names: string[];
  /** How many distinct paths were looked up under it. */
  count: number;
}

/**
 * The lookups of a plan (the run's denials and the first runs' lookups), by asker and missing folder:
 * `find` answers, for one denial, the folder it searches with at least one other name.
 */
export class MissingFolderSearches {
  private readonly byKey = new Map<string, { folder: string; paths: Set<string> }>();
  private readonly kinds = new Map<string, string>();

  constructor(
    lookups: Iterable<Denial>,
    private readonly root: string | undefined,
    private readonly fs: FsProbe,
  ) {
    if (root === undefined) return;
    for (const d of lookups) {
      const key = this.keyOf(d);
      if (key === undefined) continue;
      const entry = this.byKey.get(key.key) ?? { folder: key.folder, paths: new Set<string>() };
      entry.paths.add(resourcePath(d));
      this.byKey.set(key.key, entry);
    }
  }

  private keyOf(d: Denial): { key: string; folder: string } | undefined {
    return searchKey(d, this.root, this.fs, this.kinds);
  }

  /** The missing folder this read searches under two names or more, or undefined. */
  find(denial: Denial, scope: FsScope): FolderSearch | undefined {
    if (scope !== 'fs.read' || this.byKey.size === 0) return undefined;
    const key = this.keyOf(denial);
    const entry = key && this.byKey.get(key.key);
    if (!entry) return undefined;
    const paths = new Set(entry.paths).add(resourcePath(denial));
    if (paths.size < 2) return undefined;
    return { folder: entry.folder, names: [...paths].slice(0, 3).map((p) => path.relative(entry.folder, p)), count: paths.size };
  }
}

/** Which search a lookup is part of: its missing folder and who asked; undefined when it is none. */
function searchKey(d: Denial, root: string | undefined, fs: FsProbe, kinds?: Map<string, string>): { key: string; folder: string } | undefined {
  if (root === undefined || !isLookup(d, fs)) return undefined;
  const folder = missingFolderOf(resourcePath(d), root, fs, kinds);
  return folder === undefined ? undefined : { key: `${folder}\u0000${askerKey(d)}`, folder };
}

/** Do all these lookups search one missing folder of the project (`root`), by one asker? */
export function searchOneMissingFolder(denials: readonly Denial[], root: string | undefined, fs: FsProbe): boolean {
  const kinds = new Map<string, string>();
  const keys = new Set(denials.map((d) => searchKey(d, root, fs, kinds)?.key));
  return denials.length > 0 && keys.size === 1 && !keys.has(undefined);
}
