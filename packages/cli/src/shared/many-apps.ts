// Learning or checking several apps at once (--workspace, several configs): how many at a time, the
// options that name one folder or file and so go with one app only, and two apps never writing one file.
import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermlearnError } from '@permlearn/core';
import { shortPath } from './paths.js';

/**
 * Refuse an option that names one folder or file (`--cwd`, `--out`, …) when several apps are learned or
 * checked: it would be the same for all of them.
 */
export function assertOneAppFlags(given: readonly (readonly [flag: string, value: unknown])[], what = 'folder or file'): void {
  for (const [flag, value] of given) {
    if (value !== undefined) throw new PermlearnError('usage', `${flag} names one ${what}: it goes with one app, not --workspace or several configs`);
  }
}

/** Default parallelism: half the CPUs, at least one. */
export function defaultConcurrency(): number {
  return Math.max(1, Math.floor(os.availableParallelism() / 2));
}

/** Run `work` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A path as the file system will see it: its folder's real path (symbolic links followed) and its name. */
function canonicalPath(file: string): string {
  const abs = path.resolve(file);
  try {
    return path.join(realpathSync(path.dirname(abs)), path.basename(abs));
  } catch {
    return abs;
  }
}

/**
 * Refuse, before anything is learned, two apps that would write the same file (two configs naming one
 * "profile", or one app's "out" being another's profile): one result would silently replace the other.
 */
export function assertDistinctOutputs(outputs: readonly { file: string; app: string }[]): void {
  const seen = new Map<string, string>();
  for (const o of outputs) {
    const key = canonicalPath(o.file);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new PermlearnError('usage', `${other} and ${o.app} would both write ${shortPath(o.file)}: give each app its own "profile" (and "out")`);
    }
    seen.set(key, o.app);
  }
}
