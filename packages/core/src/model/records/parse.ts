// One record file (written by recorder/record.cjs in complain mode) as data: its header, entries and
// what it could not keep. Pure: the runner reads the file, this only parses text.
import path from 'node:path';
import { PermlearnError } from '../../errors.js';

export type RecordMode = 'audit' | 'enforce' | 'observe';

/** One distinct (permission, resource, call site) a recording process saw. */
export interface RecordEntry {
  permission: string;
  /** Absolute for file-system checks (resolved when seen), '' when Node names none. */
  resource: string;
  cwd?: string;
  site?: string;
  count: number;
  first: number;
  last: number;
  existed?: boolean;
  /** Denied by an enforced profile (enforce mode). */
  denied?: boolean;
  /** Other call sites the recorder found asking for it (by sampling repeats). */
  sites?: string[];
}

/** What a recorder did not keep past its cap of distinct entries: how many checks, by permission, and
 *  the first folders they were under. */
export interface DroppedNeeds {
  permission: string;
  count: number;
  under: string[];
}

export interface RecordFile {
  name: string;
  pid: number;
  node: string;
  mode: RecordMode;
  main?: string;
  cwd?: string;
  started: number;
  /** What this mode cannot see (said by the recorder: Node 20/22 and runs without --permission-audit). */
  unseen: string[];
  entries: RecordEntry[];
  /** The process ended and flushed a last time; false for a record cut off (SIGKILL, a crash, still running). */
  final: boolean;
  /** When it was last written. */
  flushed?: number;
  /** Entries past the recorder's cap, and lines of this file that were not valid record lines. */
  dropped: number;
  droppedBy: DroppedNeeds[];
  invalid: number;
  /** The recorder signed its lines (it had a key). */
  signed: boolean;
  /** Checked against a key: every line kept passed; `forged` lines failed (or were unsigned) and were dropped. */
  verified: boolean;
  forged: number;
  /** Refused whole when checked against a key: its header failed the check (or it is unsigned). */
  rejected?: 'unsigned' | 'forged';
}

/** Checks one line's tag against the key, for the file `fileId` (`<pid>-<started>`); from the runner (it holds the crypto). */
export type RecordLineCheck = (fileId: string, tag: string, body: string) => boolean;

/** `<22-char tag> <json>` (signed) or `<json>` (a recorder without a key). */
const SIGNED_LINE = /^([A-Za-z0-9_-]{22}) (\{.*)$/s;

function splitLine(line: string): { tag?: string; body: string } {
  const m = SIGNED_LINE.exec(line);
  return m ? { tag: m[1]!, body: m[2]! } : { body: line };
}

/** Longer than any path Node accepts: a line past it is not a record line. */
const MAX_LINE = 16 * 1024;
const MODES: readonly string[] = ['audit', 'enforce', 'observe'];

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const optString = (v: unknown, max = 4096): v is string | undefined => v === undefined || (typeof v === 'string' && v.length <= max);

/**
 * Parse one record file. A file that does not start with a record header is refused (it is not a
 * record); a line that is not a valid entry (a last line cut off mid-write) is counted and skipped.
 * With `check` (a key was given), a line whose tag fails is dropped and counted as forged, and a file
 * whose header fails is kept with no entries and marked rejected.
 */
export function parseRecordFile(text: string, name: string, check?: RecordLineCheck): RecordFile {
  const lines = text.split('\n');
  const first = splitLine(lines[0] ?? '');
  let header: Record<string, unknown> | undefined;
  try {
    header = JSON.parse(first.body) as Record<string, unknown>;
  } catch {
    header = undefined;
  }
  if (!header || typeof header !== 'object' || header.t !== 'record' || header.v !== 1)
    throw new PermlearnError('usage', `${name} is not a permlearn record file (written by permlearn/record)`);
  const mode = typeof header.mode === 'string' && MODES.includes(header.mode) ? (header.mode as RecordMode) : undefined;
  if (!mode || typeof header.node !== 'string' || !isCount(header.pid) || !isTime(header.started))
    throw new PermlearnError('usage', `${name}: the record header is malformed`);
  const fileId = `${header.pid}-${header.started}`;
  const file: RecordFile = {
    name,
    pid: header.pid,
    node: header.node,
    mode,
    started: header.started,
    unseen: Array.isArray(header.unseen) ? header.unseen.filter((u): u is string => typeof u === 'string').slice(0, 32) : [],
    entries: [],
    final: false,
    dropped: 0,
    droppedBy: [],
    invalid: 0,
    signed: first.tag !== undefined,
    verified: check !== undefined,
    forged: 0,
  };
  if (check) {
    const rejected = first.tag === undefined ? 'unsigned' : !check(fileId, first.tag, first.body) ? 'forged' : undefined;
    if (rejected) return { ...file, rejected, verified: false };
  }
  if (typeof header.main === 'string' && path.isAbsolute(header.main)) file.main = header.main;
  if (typeof header.cwd === 'string' && path.isAbsolute(header.cwd)) file.cwd = header.cwd;
  for (const raw of lines.slice(1)) {
    if (raw === '') continue;
    if (raw.length > MAX_LINE) {
      file.invalid++;
      continue;
    }
    const { tag, body } = splitLine(raw);
    if (check && (tag === undefined || !check(fileId, tag, body))) {
      file.forged++;
      continue;
    }
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(body) as Record<string, unknown>;
      if (!m || typeof m !== 'object') throw new Error('not an object');
    } catch {
      file.invalid++;
      continue;
    }
    if (m.t === 'summary') {
      file.final = m.final === true;
      if (isTime(m.flushed)) file.flushed = m.flushed;
      if (isCount(m.dropped)) file.dropped = m.dropped;
      if (Array.isArray(m.droppedBy)) file.droppedBy = m.droppedBy.slice(0, 16).flatMap((d: unknown) => droppedOf(d));
      continue;
    }
    const entry = entryOf(m);
    if (entry) file.entries.push(entry);
    else file.invalid++;
  }
  return file;
}

function droppedOf(d: unknown): DroppedNeeds[] {
  if (!d || typeof d !== 'object') return [];
  const { permission, count, under } = d as Record<string, unknown>;
  if (typeof permission !== 'string' || permission.length > 64 || !isCount(count)) return [];
  const folders = Array.isArray(under) ? under.filter((u): u is string => typeof u === 'string' && u.length <= 4096).slice(0, 16) : [];
  return [{ permission, count, under: folders }];
}

function entryOf(m: Record<string, unknown>): RecordEntry | undefined {
  if (m.t !== 'seen' || typeof m.permission !== 'string' || m.permission.length > 64 || typeof m.resource !== 'string' || m.resource.length > 4096)
    return undefined;
  if (!isCount(m.count) || m.count < 1 || !isTime(m.first) || !isTime(m.last) || !optString(m.site) || !optString(m.cwd)) return undefined;
  const fsCheck = m.permission === 'FileSystemRead' || m.permission === 'FileSystemWrite';
  if (fsCheck && m.resource !== '' && !path.isAbsolute(m.resource)) return undefined;
  const e: RecordEntry = { permission: m.permission, resource: m.resource, count: m.count, first: m.first, last: Math.max(m.first, m.last) };
  if (typeof m.cwd === 'string' && path.isAbsolute(m.cwd)) e.cwd = m.cwd;
  if (typeof m.site === 'string' && m.site !== '') e.site = m.site;
  if (Array.isArray(m.sites)) {
    const more = m.sites.filter((x): x is string => typeof x === 'string' && x !== '' && x.length <= 4096).slice(0, 16);
    if (more.length) e.sites = more;
  }
  if (typeof m.existed === 'boolean') e.existed = m.existed;
  if (m.denied === true) e.denied = true;
  return e;
}

/** What several records saw of one (permission, resource). */
