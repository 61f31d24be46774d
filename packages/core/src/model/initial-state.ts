// What a path was before learning began. Learning runs create files and folders, and permlearn puts
// the initial state back before each run, but between runs (while the next grants are planned) the
// last run's outputs are still on disk. Whether a grant names an existing directory (its subtree) or
// a folder the app creates (`dir/*`) is decided from the initial state, never from those leftovers.
import type { FsProbe, PathKind } from './types.js';

/** The kind of `absPath` before the first run (the runner knows; a probe without a snapshot says what is there now). */
export function initialKind(fs: FsProbe, absPath: string): 'file' | 'dir' | 'missing' {
  return fs.initialKind?.(absPath) ?? fs.kind(absPath);
}

/**
 * The kind a grant of the folder `dir` gets: `dir` when it existed before the first run, `created-dir`
 * when the app created it (it exists now, not then), undefined when it is not a folder now.
 */
export function folderKind(fs: FsProbe, dir: string): Extract<PathKind, 'dir' | 'created-dir'> | undefined {
  if (fs.kind(dir) !== 'dir') return undefined;
  return initialKind(fs, dir) === 'dir' ? 'dir' : 'created-dir';
}
