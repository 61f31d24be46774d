// The disk side of clean state (clean-state.ts): what one recorded entry is, and the small fs helpers
// that record, compare and put back one path. Each swallows a vanished path instead of throwing.
import { lstatSync, readdirSync, readlinkSync, statSync, utimesSync, type Stats } from 'node:fs';

export interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** What the path is when symlinks are followed, as Node's start-up check sees it. */
  follows: 'file' | 'dir' | 'missing';
  mode: number;
  size: number;
  mtimeMs: number;
  atimeMs: number;
  target?: string;
  /** Where a copy of a regular file's content lies in the session's backup file. */
  backup?: { offset: number; length: number };
  /** For a directory: its entries were all recorded (below the depth limit, not skipped). */
  listed?: boolean;
  /**
   * A folder known from its parent's listing alone (the last level of an area without copies: $TMPDIR's
   * entries, the home folder's second level): it was there and a folder, but its mode and times were not
   * read (`mode`, `mtimeMs`, `atimeMs` mean nothing). Reading them took an lstat per entry of a crowded
   * $TMPDIR before every learn.
   */
  named?: boolean;
}

/** A folder recorded by name from its parent's listing (see Entry.named). */
export const NAMED_DIR: Readonly<Entry> = Object.freeze({ type: 'dir', follows: 'dir', mode: 0, size: 0, mtimeMs: 0, atimeMs: 0, named: true });

export function followKind(p: string): 'file' | 'dir' | 'missing' {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

export function typeOf(st: Stats): Entry['type'] {
  return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
}

export function differs(was: Entry, now: Stats, p: string): boolean {
  if (was.named) return was.type !== typeOf(now);
  if (was.type !== typeOf(now) || was.mode !== (now.mode & 0o7777)) return true;
  if (was.type === 'symlink') return readlinkSync(p) !== was.target;
  if (was.type === 'file') return was.size !== now.size || was.mtimeMs !== now.mtimeMs;
  return false;
}

export function restoreTimes(p: string, was: Entry): void {
  if (was.named) return;
  try {
    utimesSync(p, was.atimeMs / 1000, was.mtimeMs / 1000);
  } catch {
    // times are a courtesy; content and mode are what matter
  }
}

export function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
