// Reads the recorder's report (the messages of model/recorder-protocol.ts): one JSON object per line, written to an extra file descriptor, each
// line signed by the recorder. Checking a line's signature takes a key and a hash, which the runner
// holds: it is handed in as `verify`, and a line it rejects is counted, never read.
import path from 'node:path';
import { parsePermission, permissionLabel, type ChildFlags, type Denial, type DenialSource } from './types.js';
import { checkKey, CHILD_KEY, RECORDER_MESSAGE_KINDS, touchKey, UNBOUND_KEY, type RecorderMessageKind } from './recorder-protocol.js';
import { emptyReport, type LoadedFile, type RecorderReport, type Unbound, type Use } from './recorder-report.js';

// What a parsed report holds is in recorder-report.ts; its names are exported from here too.
export * from './recorder-report.js';

/** The recorder sends at most 4 frames above a call site; a frame is a path and a position. */
const MAX_CALLERS = 8;
const MAX_FRAME = 4200;
const SOURCES: ReadonlySet<string> = new Set<DenialSource>(['uncaught', 'logged', 'channel', 'caught']);

export interface ParseOptions {
  /** The JSON text of a line if the line is signed with the run's key, else undefined. */
  verify: (line: string) => string | undefined;
  /** Lines longer than this are dropped and counted as oversized. */
  maxLine?: number;
}

/** A line's JSON, as read: what the recorder wrote, but checked field by field before it is believed. */
type Raw = Record<string, unknown>;

/** What parsing one report keeps between lines. */
interface ParseState {
  report: RecorderReport;
  /** Module and package.json files already listed. */
  seenFiles: Set<string>;
  /** What the recorder's repeat counts refer to: its key for a first report, per thread. */
  counted: Map<string, { hits?: number }>;
  touchedAt: Map<string, LoadedFile>;
}

function count(state: ParseState, thread: unknown, key: string, target: { hits?: number }): void {
  state.counted.set(`${String(thread)}\u0000${key}`, target);
}

export function parseRecorderReport(text: string, options: ParseOptions): RecorderReport {
  const state = newState();
  for (const line of text.split('\n')) readLine(state, line, options);
  finishReport(state.report);
  return state.report;
}

function newState(): ParseState {
  return { report: emptyReport(), seenFiles: new Set(), counted: new Map(), touchedAt: new Map() };
}

function readLine(state: ParseState, line: string, options: ParseOptions): void {
  const { report } = state;
  if (!line.trim()) return;
  if (line.length > (options.maxLine ?? Infinity)) {
    report.oversized++;
    return;
  }
  const body = options.verify(line);
  if (body === undefined) {
    report.forged++;
    return;
  }
  readBody(state, body);
}

/** One authenticated line's JSON text. */
function readBody(state: ParseState, body: string): void {
  const msg = parseLine(body);
  if (msg === undefined || !readMessage(state, msg)) state.report.junk++;
}

/**
 * A report read one authenticated line at a time, as the lines arrive (the runner feeds it while the app
 * runs, so little is left to read once the run ends); `finish` settles it once every line is in. The
 * same lines give the same report as parseRecorderReport.
 */
export class ReportParser {
  private readonly state = newState();
  readonly report = this.state.report;
  /** One line's JSON text, already authenticated (a blank one is passed over, as a blank line is). */
  add(body: string): void {
    if (body.trim()) readBody(this.state, body);
  }
  finish(): RecorderReport {
    finishReport(this.report);
    return this.report;
  }
}

/** A line's JSON object, or undefined (not JSON, or valid JSON that is not an object: `null`, `42`). */
function parseLine(body: string): Raw | undefined {
  try {
    const msg = JSON.parse(body) as unknown;
    return msg !== null && typeof msg === 'object' ? (msg as Raw) : undefined;
  } catch {
    return undefined;
  }
}

/** The kind of the message on one authenticated line, if it is a recorder message (run-app waits for `dropped`). */
export function messageKind(body: string): RecorderMessageKind | undefined {
  const msg = parseLine(body);
  const t = msg?.t;
  return typeof t === 'string' && (RECORDER_MESSAGE_KINDS as readonly string[]).includes(t) ? (t as RecorderMessageKind) : undefined;
}

/** One message into the report; false when it is not a well-formed recorder message (junk). */
function readMessage(state: ParseState, msg: Raw): boolean {
  const t = msg.t as RecorderMessageKind;
  switch (t) {
    case 'hello':
      return readHello(state, msg);
    case 'denial':
      return readDenial(state, msg);
    case 'touch':
      return readTouch(state, msg);
    case 'miss':
      return readMiss(state, msg);
    case 'list':
      return readList(state, msg);
    case 'use':
      return readUse(state, msg);
    case 'unbound':
      return readUnbound(state, msg);
    case 'hits':
      return readHits(state, msg);
    case 'load':
      return readLoad(state, msg);
    case 'probe':
      return readProbe(state, msg);
    case 'dropped':
      return readDropped(state, msg);
    case 'exit':
      return readExit(state, msg);
    default:
      t satisfies never; // every kind of the union has its case above (the compiler asks); any other `t` is junk
      return false;
  }
}

function readHello({ report }: ParseState, msg: Raw): boolean {
  if (msg.thread !== 'worker' && typeof msg.pid === 'number') {
    const given = msg.thread === 'child' ? childFlagsOf(msg.given) : undefined;
    report.processes.push({
      pid: msg.pid,
      thread: String(msg.thread),
      ...(typeof msg.main === 'string' ? { main: msg.main } : {}),
      ...(given ? { given } : {}),
      ...(typeof msg.openCwd === 'string' && msg.openCwd.startsWith('/') ? { openCwd: msg.openCwd } : {}),
    });
  }
  if (msg.thread === 'main') report.loaded = true;
  else if (msg.thread === 'worker') {
    const worker = report.uses.find((u) => u.scope === 'worker');
    if (worker) worker.hits++;
    else report.uses.push({ scope: 'worker', hits: 1 });
  } else return msg.thread === 'child' && typeof msg.pid === 'number';
  return true;
}

/** The frames above a message's call site: a short list of `file:line:col` strings, else none. */
function callersOf(msg: Raw): string[] | undefined {
  const c = msg.callers;
  if (typeof msg.site !== 'string' || !Array.isArray(c) || c.length === 0 || c.length > MAX_CALLERS) return undefined;
  return c.every((f): f is string => typeof f === 'string' && f.length <= MAX_FRAME) ? [...c] : undefined;
}

function readTouch(state: ParseState, msg: Raw): boolean {
  if (typeof msg.file !== 'string') return false;
  let entry = state.touchedAt.get(msg.file);
  if (entry) entry.hits = (entry.hits ?? 1) + 1;
  else {
    entry = { file: msg.file, hits: 1 };
    if (typeof msg.site === 'string') entry.from = msg.site;
    const callers = callersOf(msg);
    if (callers) entry.callers = callers;
    if (typeof msg.api === 'string') entry.api = msg.api;
    state.touchedAt.set(msg.file, entry);
    state.report.touched.push(entry);
  }
  count(state, msg.thread, touchKey(msg.file), entry);
  return true;
}

function readMiss({ report }: ParseState, msg: Raw): boolean {
  if (typeof msg.file !== 'string') return false;
  const entry: LoadedFile = { file: msg.file };
  if (typeof msg.site === 'string') entry.from = msg.site;
  const callers = callersOf(msg);
  if (callers) entry.callers = callers;
  if (typeof msg.api === 'string') entry.api = msg.api;
  report.missing.push(entry);
  return true;
}

function readList({ report }: ParseState, msg: Raw): boolean {
  if (typeof msg.file !== 'string') return false;
  if (!report.listed.includes(msg.file)) report.listed.push(msg.file);
  return true;
}

function readUse(state: ParseState, msg: Raw): boolean {
  if (msg.scope !== 'child') return false;
  const use: Use = { scope: 'child', hits: 1 };
  if (typeof msg.site === 'string') use.site = msg.site;
  if (typeof msg.api === 'string') use.api = msg.api;
  if (typeof msg.time === 'number') use.time = msg.time;
  state.report.uses.push(use);
  count(state, msg.thread, CHILD_KEY, use);
  return true;
}

function readUnbound(state: ParseState, msg: Raw): boolean {
  if (msg.api !== 'Worker') return false;
  const u: Unbound = { api: 'Worker', hits: 1 };
  if (typeof msg.site === 'string') u.site = msg.site;
  state.report.unbound.push(u);
  count(state, msg.thread, UNBOUND_KEY, u);
  return true;
}

function readHits(state: ParseState, msg: Raw): boolean {
  if (msg.counts === null || typeof msg.counts !== 'object') return false;
  const last = (msg.last !== null && typeof msg.last === 'object' ? msg.last : {}) as Raw;
  for (const [key, n] of Object.entries(msg.counts as Raw)) {
    const target = state.counted.get(`${String(msg.thread)}\u0000${key}`) as { hits?: number; lastTime?: number } | undefined;
    if (target && typeof n === 'number' && n > 0) target.hits = (target.hits ?? 1) + n;
    const when = last[key];
    if (target && 'source' in target && typeof when === 'number') target.lastTime = Math.max(target.lastTime ?? 0, when);
  }
  return true;
}

function readDropped({ report }: ParseState, msg: Raw): boolean {
  if (typeof msg.time !== 'number') return false;
  report.dropped = {
    time: msg.time,
    applied: typeof msg.applied === 'number' ? msg.applied : 0,
    ...(typeof msg.error === 'string' ? { error: msg.error } : {}),
  };
  return true;
}

function readExit({ report }: ParseState, msg: Raw): boolean {
  if (typeof msg.code !== 'number') return false;
  report.exitCode = msg.code;
  return true;
}

function readProbe({ report, seenFiles }: ParseState, msg: Raw): boolean {
  if (!Array.isArray(msg.files)) return false;
  for (const f of msg.files) {
    if (typeof f !== 'string' || seenFiles.has(f)) continue;
    seenFiles.add(f);
    report.probes.push(typeof msg.from === 'string' ? { file: f, from: msg.from } : { file: f });
  }
  return true;
}

function readLoad({ report, seenFiles }: ParseState, msg: Raw): boolean {
  if (typeof msg.file !== 'string') return false;
  if (!seenFiles.has(msg.file)) report.modules.push(typeof msg.from === 'string' ? { file: msg.file, from: msg.from } : { file: msg.file });
  seenFiles.add(msg.file);
  return true;
}

/** The longest addon path taken from a report (Node's own limit on Linux). */
const MAX_ADDON_PATH = 4096;

function readDenial(state: ParseState, msg: Raw): boolean {
  if (typeof msg.permission !== 'string' || typeof msg.resource !== 'string' || !SOURCES.has(String(msg.source))) return false;
  const d: Denial = {
    ...parsePermission(msg.permission),
    resource: msg.resource,
    code: typeof msg.code === 'string' ? msg.code : 'ERR_ACCESS_DENIED',
    source: msg.source as DenialSource,
  };
  if (typeof msg.cwd === 'string') d.cwd = msg.cwd;
  if (typeof msg.message === 'string') d.message = msg.message;
  if (typeof msg.site === 'string') d.site = msg.site;
  const callers = callersOf(msg);
  if (callers && d.site !== undefined) d.callers = callers;
  if (msg.thread === 'worker' || msg.thread === 'main' || msg.thread === 'child') d.thread = msg.thread;
  if (typeof msg.existed === 'boolean') d.existed = msg.existed;
  if (msg.via === 'process.dlopen' || msg.via === 'require' || msg.via === 'WASI') d.via = msg.via;
  if (d.via === 'process.dlopen' && d.permission === 'Addon' && typeof msg.file === 'string' && path.isAbsolute(msg.file) && msg.file.length <= MAX_ADDON_PATH)
    d.addonFile = path.normalize(msg.file);
  if (msg.resourceFrom === 'argument') d.resourceFrom = 'argument';
  if (msg.loader === true && d.source === 'channel') d.loader = true;
  if (typeof msg.call === 'string' && /^[a-z][A-Za-z]{0,39}$/.test(msg.call) && /^FileSystem(Read|Write)$/.test(d.permission)) d.call = msg.call;
  if (typeof msg.time === 'number') d.time = msg.time;
  const given = childFlagsOf(msg.given);
  if (given && msg.thread === 'child') d.given = given;
  if (msg.asked === 'has' && d.source === 'channel') d.asked = 'has';
  state.report.denials.push(d);
  if (d.source === 'channel') count(state, msg.thread, checkKey(d.asked, permissionLabel(d), d.resource, d.cwd), d);
  return true;
}

/** What is settled once every line is in: facts one line lends another. */
function finishReport(report: RecorderReport): void {
  // Module files are read by Node's loader through the same fs API: their load is the evidence.
  const moduleFiles = new Set(report.modules.map((m) => m.file));
  report.touched = report.touched.filter((t) => !moduleFiles.has(t.file));
  // An escaped error may lack a call site, or the fs function it came out of, that the channel event for
  // the same check (24+) has.
  for (const d of report.denials) {
    if (d.site !== undefined && (d.call !== undefined || d.source === 'channel')) continue;
    const same = (o: Denial) => o !== d && o.permission === d.permission && o.rawPermission === d.rawPermission && o.resource === d.resource && o.cwd === d.cwd;
    const twin = d.site === undefined ? report.denials.find((o) => o.site !== undefined && same(o)) : undefined;
    if (twin) d.site = twin.site;
    const named = d.call === undefined ? report.denials.find((o) => o.call !== undefined && same(o)) : undefined;
    if (named) d.call = named.call;
  }
  // A denial the recorder also saw leave process.dlopen or require(): the report that came first (the
  // channel's on 24+, the fs watcher's on 20/22), which is the one kept, says so too.
  const vias = report.denials.filter((d) => d.via !== undefined);
  for (const d of report.denials) {
    if (d.via !== undefined) continue;
    const twin = vias.find(
      (o) => o.thread === d.thread && o.permission === d.permission && o.rawPermission === d.rawPermission && o.resource === d.resource && o.cwd === d.cwd,
    );
    if (twin) d.via = twin.via;
  }
}

/** The permission flags a child's recorder says the child was started with, if well formed. */
function childFlagsOf(value: unknown): ChildFlags | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { execArgv, nodeOptions } = value as Record<string, unknown>;
  const words = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 1000 && v.every((w) => typeof w === 'string' && w.length <= 4096);
  return words(execArgv) && words(nodeOptions) ? { execArgv: [...execArgv], nodeOptions: [...nodeOptions] } : undefined;
}
