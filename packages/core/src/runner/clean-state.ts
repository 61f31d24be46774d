// Every run starts from the app's initial state. Before the first run permlearn records what lies
// where the app may write (the project tree, the temporary directory, the home folder, and the folder
// of each write grant as it is learned), keeping a copy of the files it may change. After a run, what
// the app created there is moved aside into the session folder and what it changed or removed is put
// back (content, mode and times), so the next run, and the verification run above all, sees the
// machine as the user left it; at the end the same is done for the last run, unless the user asked to
// keep its outputs.
//
// Only what the app is shown to have written is touched: under Node's permission model it can write
// nowhere but its write grants (audit runs report every write they let through), so other processes'
// files (an editor's, another program's in $TMPDIR) are never moved. What a non-Node child process
// started with --allow-child-process writes elsewhere is outside the model and is not seen.
import {
  chmodSync,
  closeSync,
  cpSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSameOrUnder, isStrictlyUnder } from '../model/paths/index.js';
import { breadthViolation } from '../model/breadth.js';
import type { PathKind } from '../model/types.js';
import type { MachineChanges } from '../model/profile.js';
import { differs, followKind, lstatOrUndefined, NAMED_DIR, restoreTimes, safeList, typeOf, type Entry } from './clean-state-fs.js';

/** A folder whose state is recorded: to `depth` levels below it (Infinity for all), skipping some names. */
export interface Area {
  path: string;
  depth: number;
  /** Names not descended into (still recorded themselves). */
  skip?: readonly string[];
  /** Keep copies of the regular files, so that changes can be undone. */
  backup?: boolean;
}

export interface CleanStateOptions {
  sessionDir: string;
  /** Most bytes of file content copied aside before the first run. */
  maxBackupBytes?: number;
  /** Most entries recorded per area. */
  maxEntries?: number;
}

const DEFAULT_MAX_BACKUP = 256 * 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 200_000;

export class CleanState {
  private readonly manifest = new Map<string, Entry>();
  /** Paths recorded as absent (the root of an area that did not exist, say). */
  private readonly absent = new Set<string>();
  private readonly areas: Area[] = [];
  /** One file holding every copy end to end: one write each, and one file to remove at the end. */
  private readonly backupFile: string;
  private backupFd: number | undefined;
  private readonly outputsDir: string;
  private backupBytes = 0;
  private runs = 0;
  /** What the last run left that is not yet put back. */
  private pendingCreated = new Set<string>();
  private pendingChanged = new Set<string>();
  private readonly everCreated = new Set<string>();
  private readonly everChanged = new Set<string>();
  private readonly unrestored = new Set<string>();
  /** The write grants of a run under way (learning interrupted: what it wrote is found from them). */
  private running: readonly { path?: string; kind?: PathKind }[] | undefined;
  private readonly maxBackup: number;
  private readonly maxEntries: number;

  constructor(private readonly opts: CleanStateOptions) {
    this.backupFile = path.join(opts.sessionDir, 'initial-state.bin');
    this.outputsDir = path.join(opts.sessionDir, 'outputs');
    this.maxBackup = opts.maxBackupBytes ?? DEFAULT_MAX_BACKUP;
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** Record an area as it is now (before the first run, or before the first run that may write there). */
  capture(area: Area): void {
    const abs = path.resolve(area.path);
    if (this.areas.some((a) => this.covers(a, abs, area.depth))) return;
    this.areas.push({ ...area, path: abs });
    const st = lstatOrUndefined(abs);
    if (!st) {
      this.absent.add(abs);
      return;
    }
    let count = 0;
    const walk = (p: string, st: Stats, level: number) => {
      const known = this.manifest.get(p);
      if (known && !known.named && (known.listed || !st.isDirectory())) return;
      const entry = this.entryOf(p, st, area.backup === true);
      this.manifest.set(p, entry);
      if (!st.isDirectory() || level >= area.depth || (level > 0 && area.skip?.includes(path.basename(p)))) return;
      let names: Dirent[];
      try {
        names = readdirSync(p, { withFileTypes: true });
      } catch {
        return;
      }
      if (count + names.length > this.maxEntries) return;
      count += names.length;
      entry.listed = true;
      // The folders at the last level of an area without copies are recorded by name (Entry.named).
      const byName = level + 1 >= area.depth && area.backup !== true;
      for (const dirent of names) {
        const child = path.join(p, dirent.name);
        if (child === this.opts.sessionDir) continue;
        if (byName && dirent.isDirectory()) {
          if (!this.manifest.has(child)) this.manifest.set(child, { ...NAMED_DIR });
          continue;
        }
        const cst = lstatOrUndefined(child);
        if (cst) walk(child, cst, level + 1);
      }
    };
    walk(abs, st, 0);
  }

  /** The area `a` already records `abs` to at least `depth` levels below it. */
  private covers(a: Area, abs: string, depth: number): boolean {
    if (!isSameOrUnder(abs, a.path)) return false;
    const segments = abs === a.path ? [] : path.relative(a.path, abs).split(path.sep);
    if (segments.some((s) => a.skip?.includes(s))) return false;
    return a.depth === Infinity || (depth !== Infinity && segments.length + depth <= a.depth);
  }

  private entryOf(p: string, st: Stats, backup: boolean): Entry {
    const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
    const entry: Entry = {
      type,
      follows: type === 'symlink' ? followKind(p) : type === 'dir' ? 'dir' : 'file',
      mode: st.mode & 0o7777,
      size: st.size,
      mtimeMs: st.mtimeMs,
      atimeMs: st.atimeMs,
    };
    if (type === 'symlink') entry.target = readlinkSync(p);
    if (type === 'file' && backup) this.backup(p, entry, st.size);
    return entry;
  }

  private backup(p: string, entry: Entry, size: number): void {
    if (this.backupBytes + size > this.maxBackup) return;
    try {
      const content = readFileSync(p);
      if (this.backupBytes + content.length > this.maxBackup) return;
      this.backupFd ??= openSync(this.backupFile, 'a+', 0o600);
      writeSync(this.backupFd, content, 0, content.length, this.backupBytes);
      entry.backup = { offset: this.backupBytes, length: content.length };
      this.backupBytes += content.length;
    } catch {
      // unreadable: the file can still be seen to change, not put back
    }
  }

  private backedUp(b: { offset: number; length: number }): Buffer {
    const buf = Buffer.alloc(b.length);
    if (b.length > 0) readSync(this.backupFd!, buf, 0, b.length, b.offset);
    return buf;
  }

  /** What `abs` was when first recorded: an entry, 'absent', or undefined when nothing recorded says. */
  private initialOf(abs: string): Entry | 'absent' | undefined {
    const known = this.manifest.get(abs);
    if (known) return known;
    // Up to the nearest recorded folder: if it was listed in full, this path was not in it.
    for (let p = abs; ;) {
      if (this.absent.has(p)) return 'absent';
      const parent = path.dirname(p);
      if (parent === p) return undefined;
      const e = this.manifest.get(parent);
      if (e) return e.type !== 'dir' || e.listed ? 'absent' : undefined;
      p = parent;
    }
  }

  /** The kind of `abs` before the first run, when the records say; for model/initial-state.ts. */
  initialKind(abs: string): 'file' | 'dir' | 'missing' | undefined {
    for (const c of this.everCreated) if (isSameOrUnder(abs, c)) return 'missing';
    const e = this.initialOf(abs);
    if (e === 'absent') return 'missing';
    return e?.follows;
  }

  /** Before a run: put back what the last run changed, and record the folders its write grants reach. */
  beforeRun(writeGrants: readonly { path?: string; kind?: PathKind }[]): void {
    this.restore();
    this.running = writeGrants;
    for (const g of writeGrants) {
      if (g.path === undefined) continue;
      // A prefix grant reaches the entries of its folder that start with it.
      if (g.kind === 'prefix') this.capture({ path: path.dirname(g.path.endsWith('/') ? `${g.path}x` : g.path), depth: 1, backup: true });
      else this.capture({ path: g.path, depth: Infinity, backup: true });
    }
    this.runs++;
  }

  /**
   * After a run: what the app created, changed or removed where it may write (its write grants), and
   * at the paths its writes were reported for (an audit run lets every write through and reports it).
   */
  afterRun(writeGrants: readonly { path?: string; kind?: PathKind }[], written: readonly { path: string; existed?: boolean }[]): void {
    this.running = undefined;
    const check = (p: string) => this.examine(p);
    for (const g of writeGrants) {
      if (g.path === undefined) continue;
      if (g.kind === 'prefix') {
        const dir = path.dirname(g.path.endsWith('/') ? `${g.path}x` : g.path);
        for (const name of safeList(dir)) if (path.join(dir, name).startsWith(g.path)) check(path.join(dir, name));
      } else check(g.path);
    }
    for (const w of written) {
      // An mkdtemp template (`/tmp/app-XXXXXX`): the new entries of its folder that start with the prefix.
      if (w.path.endsWith('XXXXXX')) {
        const prefix = w.path.slice(0, -6);
        const dir = path.dirname(w.path);
        for (const name of safeList(dir)) {
          const p = path.join(dir, name);
          if (p.startsWith(prefix) && this.initialOf(p) === 'absent') this.created(p);
        }
      } else if (w.existed === false) this.created(this.createdRoot(w.path));
      else check(w.path);
    }
  }

  /** Compare `p` (and what is below it) with its initial state. */
  private examine(p: string): void {
    const now = lstatOrUndefined(p);
    const was = this.initialOf(p);
    if (was === undefined) {
      if (now) this.unrestored.add(`${p}: written by the app; its state before learning was not recorded`);
      return;
    }
    if (was === 'absent') {
      if (now) this.created(this.createdRoot(p));
      return;
    }
    if (!now) {
      this.changed(p);
      return;
    }
    if (differs(was, now, p)) this.changed(p);
    if (was.type === 'dir' && now.isDirectory() && was.listed) {
      for (const name of safeList(p)) {
        const child = path.join(p, name);
        if (child !== this.opts.sessionDir) this.examine(child);
      }
      // Entries that are gone.
      for (const [q] of this.manifest) if (path.dirname(q) === p && !lstatOrUndefined(q)) this.changed(q);
    }
  }

  /** The topmost folder above `p` (or `p`) that did not exist before the first run. */
  private createdRoot(p: string): string {
    let root = p;
    for (let up = path.dirname(p); up !== root && this.initialOf(up) === 'absent'; up = path.dirname(up)) root = up;
    return root;
  }

  private created(p: string): void {
    if (!lstatOrUndefined(p)) return;
    if ([...this.pendingCreated].some((c) => isSameOrUnder(p, c))) return;
    for (const c of [...this.pendingCreated]) if (isStrictlyUnder(c, p)) this.pendingCreated.delete(c);
    this.pendingCreated.add(p);
    this.everCreated.add(p);
  }

  private changed(p: string): void {
    this.pendingChanged.add(p);
    this.everChanged.add(p);
  }

  /** Put the initial state back: created paths moved aside, changed ones restored from their records. */
  restore(): void {
    const created = [...this.pendingCreated].sort();
    this.pendingCreated.clear();
    const touchedDirs = new Set<string>();
    for (const p of created) {
      const aside = path.join(this.outputsDir, String(this.runs), p);
      try {
        mkdirSync(path.dirname(aside), { recursive: true });
        try {
          renameSync(p, aside);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          cpSync(p, aside, { recursive: true, verbatimSymlinks: true });
          rmSync(p, { recursive: true, force: true });
        }
        touchedDirs.add(path.dirname(p));
      } catch (err) {
        this.unrestored.add(`${p}: created by the app and could not be moved aside (${(err as Error).message})`);
      }
    }
    // Parents before children, so that a removed folder is back before its files.
    const changed = [...this.pendingChanged].sort();
    this.pendingChanged.clear();
    for (const p of changed) {
      const was = this.initialOf(p);
      if (!was || was === 'absent') continue;
      try {
        this.putBack(p, was);
        touchedDirs.add(path.dirname(p));
      } catch (err) {
        this.unrestored.add(`${p}: ${(err as Error).message}`);
      }
    }
    // Folders whose entries changed get their times back too.
    for (const dir of touchedDirs) {
      const was = this.manifest.get(dir);
      if (was?.type === 'dir') restoreTimes(dir, was);
    }
  }

  private putBack(p: string, was: Entry): void {
    const now = lstatOrUndefined(p);
    if (now && (was.type !== typeOf(now) || was.type === 'symlink')) rmSync(p, { recursive: true, force: true });
    if (was.type === 'dir') {
      if (!lstatOrUndefined(p)) mkdirSync(p);
      if (was.named) throw new Error('removed by the app and made again, without its mode and times: only its name was recorded before learning');
      chmodSync(p, was.mode);
      restoreTimes(p, was);
      return;
    }
    if (was.type === 'symlink') {
      symlinkSync(was.target!, p);
      return;
    }
    if (was.type !== 'file') throw new Error('changed, and only files, folders and symlinks can be put back');
    if (now && !differs(was, lstatSync(p), p)) return;
    if (!was.backup) throw new Error('changed by the app; it was too large to copy before learning, so it was not put back');
    writeFileSync(p, this.backedUp(was.backup));
    chmodSync(p, was.mode);
    restoreTimes(p, was);
  }

  /** At the end: put everything back, or (keepOutputs) leave the last run's outputs in place. */
  finish(keepOutputs: boolean): MachineChanges {
    if (this.running) this.afterRun(this.running, []);
    const kept = keepOutputs ? [...this.pendingCreated, ...this.pendingChanged] : [];
    if (keepOutputs) {
      this.pendingCreated.clear();
      this.pendingChanged.clear();
    } else this.restore();
    if (this.backupFd !== undefined) closeSync(this.backupFd);
    this.backupFd = undefined;
    const out: MachineChanges = {
      runs: this.runs,
      created: [...this.everCreated].sort(),
      changed: [...this.everChanged].filter((p) => ![...this.everCreated].some((c) => isSameOrUnder(p, c))).sort(),
      restored: !keepOutputs && this.unrestored.size === 0,
      unrestored: [...this.unrestored],
    };
    if (keepOutputs) out.kept = kept.sort();
    return out;
  }
}

/**
 * Where an app may write, recorded before the first run: the project (all of it but .git and the
 * contents of node_modules, with copies of its files), the cwd if it lies outside, and the first levels
 * of the temporary directory and the home folder (what is created there is then known to be new).
 * Folders below those, and node_modules, are recorded when a write grant first reaches them.
 */
export function initialAreas(root: string, cwd: string, home: string): Area[] {
  const project = (dir: string): Area =>
    breadthViolation({ scope: 'fs.read', path: dir, kind: 'dir' }, { homedir: home, tmpdir: os.tmpdir() })
      ? { path: dir, depth: 1 }
      : { path: dir, depth: Infinity, skip: ['.git', 'node_modules'], backup: true };
  const areas = [project(root)];
  if (!isSameOrUnder(cwd, root)) areas.push(project(cwd));
  areas.push({ path: os.tmpdir(), depth: 1 });
  if (home && home !== '/') areas.push({ path: home, depth: 2 });
  return areas;
}
