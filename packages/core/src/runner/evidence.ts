// The run's keys, and reading what the recorder wrote: only lines signed with the run's key count,
// and no more than a bounded amount is read from the channel and from Node children's report files.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { mergeReports, ReportParser, type RecorderReport } from '../model/parse-events.js';
import { yieldToEventLoop } from '../model/yield.js';
import type { EvidenceCounts } from '../model/learn/index.js';

/** The environment variable that carries the child key to Node children (the recorder removes it). */
export const RECORDER_KEY_ENV = 'PERMLEARN_RECORDER_KEY';

/** The most signed text permlearn keeps from the recorder channel in one run, and from each child report file. */
export const MAX_CHANNEL_BYTES = 64 * 1024 * 1024;
export const MAX_CHILD_FILE_BYTES = 16 * 1024 * 1024;
/** The most it reads from all child report files of one run together (junk included). */
export const MAX_CHILD_READ_BYTES = 256 * 1024 * 1024;
/** A longer line is not one the recorder writes. */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

export interface RunKeys {
  /** The token in front of every line of the app's own process (main thread and Workers) on the
   *  channel, a pipe only permlearn reads; it reaches the recorder through an fd. */
  main: string;
  /** The HMAC key of Node children's lines (and of every Node process under `permlearn run --`),
   *  whose report files others may read. */
  child: string;
}

/** Fresh keys for one learning session. */
export function createKeys(): RunKeys {
  return { main: randomBytes(32).toString('base64url'), child: randomBytes(32).toString('base64url') };
}

/** What permlearn writes into the recorder's key fd. */
export function keyPipeText(keys: RunKeys): string {
  return `${keys.main} ${keys.child}`;
}

/** The keys as key objects, made once: an HMAC from a key object costs half what one from the string does,
 *  and a Node child's report is checked line by line. */
const keyObjects = new Map<string, KeyObject>();

function keyObjectOf(key: string): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    if (keyObjects.size >= 16) keyObjects.clear();
    keyObjects.set(key, (k = createSecretKey(Buffer.from(key, 'utf8'))));
  }
  return k;
}

/** The tag the recorder puts before a line's JSON text. */
export function tagOf(key: string, body: string): string {
  return createHmac('sha256', keyObjectOf(key)).update(body).digest('base64url').slice(0, 22);
}

/** A line checker for the app's channel: the JSON text of a line that starts with the token, else undefined. */
export function tokenVerifier(token: string): (line: string) => string | undefined {
  const want = Buffer.from(`${token} `);
  return (line) => {
    const given = Buffer.from(line.slice(0, want.length));
    return given.length === want.length && timingSafeEqual(given, want) ? line.slice(want.length) : undefined;
  };
}

/** A line checker for report files: the JSON text of a line signed (HMAC) with `key`, else undefined. */
export function verifierFor(key: string): (line: string) => string | undefined {
  return (line) => {
    const space = line.indexOf(' ');
    if (space !== 22) return undefined;
    const body = line.slice(23);
    const given = Buffer.from(line.slice(0, 22));
    const want = Buffer.from(tagOf(key, body));
    return given.length === want.length && timingSafeEqual(given, want) ? body : undefined;
  };
}

/**
 * Reads a recorder's output as it arrives, one line at a time: a line that does not authenticate is
 * counted and thrown away at once (so junk, however much, neither fills memory nor crowds out the
 * recorder's own lines), and signed lines are kept up to `max` characters; beyond that they are
 * counted as dropped, and the run's evidence is incomplete.
 */
export class SignedLines {
  /** The JSON text of the signed lines kept, one per line. */
  text = '';
  /** Characters of signed lines not kept (over `max`). */
  dropped = 0;
  /** Lines that did not authenticate. */
  forged = 0;
  /** Lines longer than MAX_LINE_CHARS. */
  oversized = 0;
  private pending = '';
  private skipping = false;
  private readonly parser = new ReportParser();
  private settled: RecorderReport | undefined;
  constructor(
    private readonly verify: (line: string) => string | undefined,
    private readonly max = MAX_CHANNEL_BYTES,
  ) {}
  add(chunk: string): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      if (nl < 0) break;
      const piece = chunk.slice(from, nl);
      from = nl + 1;
      if (this.skipping) {
        this.skipping = false; // the end of an oversized line
        continue;
      }
      this.line(this.pending + piece);
      this.pending = '';
    }
    if (this.skipping) return;
    this.pending += chunk.slice(from);
    if (this.pending.length > MAX_LINE_CHARS) {
      this.oversized++;
      this.pending = '';
      this.skipping = true;
    }
  }
  /** The last line, if it had no newline (a recorder always ends its lines). */
  end(): void {
    if (this.pending.trim()) this.forged++;
    this.pending = '';
  }
  private line(line: string): void {
    if (!line.trim()) return;
    if (line.length > MAX_LINE_CHARS) {
      this.oversized++;
      return;
    }
    const body = this.verify(line);
    if (body === undefined) {
      this.forged++;
      return;
    }
    if (this.text.length + body.length + 1 > this.max) {
      this.dropped += body.length + 1;
      return;
    }
    this.text += `${body}\n`;
    // Read now, while the app runs, rather than all at once after it ended.
    this.parser.add(body);
  }
  /** What was kept, parsed (its lines are already authenticated); the report is settled once. */
  report(): RecorderReport {
    if (!this.settled) {
      this.settled = this.parser.finish();
      this.settled.forged += this.forged;
      this.settled.oversized += this.oversized;
    }
    return this.settled;
  }
  /** The same, after letting timers and signals in (the lines were read as they came). */
  async reportYielding(): Promise<RecorderReport> {
    await yieldToEventLoop();
    return this.report();
  }
}

/** Feed at most `budget` bytes of a file to `into`, a megabyte at a time; the bytes read. */
function readInto(file: string, into: SignedLines, budget: number): { read: number; capped: boolean } {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1024 * 1024);
    let read = 0;
    for (;;) {
      if (read >= budget) return { read, capped: readSync(fd, buf, 0, 1, read) > 0 };
      const n = readSync(fd, buf, 0, Math.min(buf.length, budget - read), read);
      if (n === 0) break;
      read += n;
      into.add(buf.toString('utf8', 0, n));
    }
    into.end();
    return { read, capped: false };
  } finally {
    closeSync(fd);
  }
}

export interface ChildReports {
  report: RecorderReport;
  /** Files in the events folder with no line signed by a recorder (ignored). */
  forgedFiles: number;
  /** Lines in the other files that did not authenticate (ignored). */
  forgedLines: number;
  /** Files read only in part, or not at all, because of the size limits. */
  cappedFiles: number;
}

/** What the app's Node children reported, read and removed from the events folder, merged into `into`. */
export function addChildReports(dir: string, childKey: string, into: RecorderReport): ChildReports {
  let budget = MAX_CHILD_READ_BYTES;
  let forgedFiles = 0;
  let forgedLines = 0;
  let cappedFiles = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return { report: into, forgedFiles, forgedLines, cappedFiles };
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      if (budget <= 0) {
        cappedFiles++;
        continue;
      }
      const lines = new SignedLines(verifierFor(childKey), MAX_CHILD_FILE_BYTES);
      const { read, capped } = readInto(file, lines, budget);
      budget -= read;
      if (capped || lines.dropped > 0) cappedFiles++;
      const child = lines.report();
      const signed = child.processes.length + child.denials.length + child.modules.length + child.touched.length + child.uses.length;
      const unsigned = child.forged + child.oversized;
      if (signed === 0 && unsigned > 0) forgedFiles++;
      else forgedLines += unsigned;
      mergeReports(into, child);
    } catch {
      // not a file we can read (a folder, a socket the app made): not evidence
      forgedFiles++;
    } finally {
      rmSync(file, { force: true, recursive: true });
    }
  }
  return { report: into, forgedFiles, forgedLines, cappedFiles };
}

/** One-line notes on a run's evidence, for the profile's warnings. */
export function evidenceNotes(r: EvidenceCounts): string[] {
  const notes: string[] = [];
  const lines = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  if (r.forged > 0) notes.push(`${lines(r.forged)} on the recorder channel ${r.forged === 1 ? 'was' : 'were'} not written by the recorder (ignored)`);
  if (r.forgedLines > 0)
    notes.push(`${lines(r.forgedLines)} in child report files ${r.forgedLines === 1 ? 'was' : 'were'} not written by a recorder (ignored)`);
  if (r.forgedFiles > 0)
    notes.push(
      `${r.forgedFiles} file${r.forgedFiles === 1 ? '' : 's'} in the events folder ${r.forgedFiles === 1 ? 'was' : 'were'} not written by a recorder (ignored)`,
    );
  if (r.channelDropped > 0) {
    notes.push(
      `the recorder wrote more than ${MAX_CHANNEL_BYTES / 1024 / 1024} MB in one run; the rest (${r.channelDropped} bytes) was not kept, so that run's evidence is incomplete`,
    );
  }
  if (r.cappedFiles > 0) {
    notes.push(
      `${r.cappedFiles} child report file${r.cappedFiles === 1 ? '' : 's'} went over the size limits and ${r.cappedFiles === 1 ? 'was' : 'were'} read only in part, so that run's evidence is incomplete`,
    );
  }
  return notes;
}

/** The sum of several runs' counts. */
export function addCounts(a: EvidenceCounts, b: EvidenceCounts | undefined): EvidenceCounts {
  if (!b) return a;
  return {
    forged: a.forged + b.forged,
    forgedFiles: a.forgedFiles + b.forgedFiles,
    forgedLines: a.forgedLines + b.forgedLines,
    channelDropped: a.channelDropped + b.channelDropped,
    cappedFiles: a.cappedFiles + b.cappedFiles,
  };
}

export const NO_EVIDENCE_PROBLEMS: EvidenceCounts = { forged: 0, forgedFiles: 0, forgedLines: 0, channelDropped: 0, cappedFiles: 0 };
