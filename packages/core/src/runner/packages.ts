// Reading package.json files to say which dependency a call came from.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FindPackage, PackageInfo } from '../model/attribute.js';

/** A FindPackage that reads the disk, remembering what it found per directory. */
export function packageFinder(): FindPackage {
  const cache = new Map<string, PackageInfo | undefined>();
  const find: FindPackage = (dir) => {
    if (cache.has(dir)) return cache.get(dir);
    let found: PackageInfo | undefined;
    try {
      const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      found = { dir };
      if (typeof json.name === 'string') found.name = json.name;
      if (typeof json.version === 'string') found.version = json.version;
    } catch {
      const parent = path.dirname(dir);
      found = parent === dir ? undefined : find(parent);
    }
    cache.set(dir, found);
    return found;
  };
  return find;
}
