// Reads the recorder's report: one JSON object per line, written to an extra file descriptor, each
// line signed by the recorder. Checking a line's signature takes a key and a hash, which the runner
// holds: it is handed in as `verify`, and a line it rejects is counted, never read.
import type { ChildFlags, Denial, DenialSource } from './types.js';

export interface LoadedFile {
  file: string;
  /** The module whose require() led here, or for a file read through the fs API the call site. */
  from?: string;
  /** How many times it was used (reads of the same file, loads of the same module). */
  hits?: number;
  /** The fs API that read it (`readFileSync` ...), for files read rather than loaded. */
  api?: string;
}

/** A capability the app used during an observe run, where nothing denied it. */
export interface Use {
  scope: 'child' | 'worker';
  /** The call site, when known. */
  site?: string;
  /** The API (`execFileSync` ...), when known. */
  api?: string;
  hits: number;
}

export interface RecorderReport {
  /** The recorder loaded in the app's main thread. */
  loaded: boolean;
  denials: Denial[];
  /** Exit code the app announced in its 'exit' event, if it got that far. */
  exitCode?: number;
  /** Signed lines that were not recorder messages (kept for debugging). */
  junk: number;
  /** Lines that did not authenticate: not written by the recorder (forged, garbled or cut short). */
  forged: number;
  /** Lines longer than the recorder ever writes (dropped unread). */
  oversized: number;
  /** CommonJS files the app loaded, in order, without repeats, with the file that loaded each. */
  modules: LoadedFile[];
  /** package.json paths the CommonJS resolver checked (whether or not they exist). */
  probes: LoadedFile[];
  /** Paths the app read successfully through the fs API (observe runs). */
  touched: LoadedFile[];
  /** Child processes and Workers the app started (observe runs). */
  uses: Use[];
  /** Paths the app looked up that did not exist (observe runs), with the call site. */
  missing: LoadedFile[];
  /** When the recorder applied a drop plan (drop-plan verification runs). */
  dropped?: { time: number; applied: number; error?: string };
  /** Every Node process the recorder ran in (its hello), with its main script. */
  processes: { pid: number; main?: string; thread: string; given?: ChildFlags }[];
}

const SOURCES: ReadonlySet<string> = new Set<DenialSource>(['uncaught', 'logged', 'channel', 'caught']);

export interface ParseOptions {
  /** The JSON text of a line if the line is signed with the run's key, else undefined. */
  verify: (line: string) => string | undefined;
  /** Lines longer than this are dropped and counted as oversized. */
  maxLine?: number;
}

export function parseRecorderReport(text: string, options: ParseOptions): RecorderReport {
  const report: RecorderReport = { loaded: false, denials: [], junk: 0, forged: 0, oversized: 0, modules: [], probes: [], touched: [], uses: [], missing: [], processes: [] };
  const maxLine = options.maxLine ?? Infinity;
  const seenFiles = new Set<string>();
  // What the recorder's repeat counts refer to: its key for a first report, per thread.
  const counted = new Map<string, { hits?: number }>();
  const count = (thread: unknown, key: string, target: { hits?: number }) => counted.set(`${String(thread)}\u0000${key}`, target);
  const touchedAt = new Map<string, LoadedFile>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.length > maxLine) {
      report.oversized++;
      continue;
    }
    const body = options.verify(line);
    if (body === undefined) {
      report.forged++;
      continue;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(body) as Record<string, unknown>;
    } catch {
      report.junk++;
      continue;
    }
    // Valid JSON that is not an object (`null`, `42`) is junk too, not a crash.
    if (msg === null || typeof msg !== 'object') {
      report.junk++;
      continue;
    }
    if (msg.t === 'hello' && msg.thread !== 'worker' && typeof msg.pid === 'number') {
      const given = msg.thread === 'child' ? childFlagsOf(msg.given) : undefined;
      report.processes.push({ pid: msg.pid, thread: String(msg.thread), ...(typeof msg.main === 'string' ? { main: msg.main } : {}), ...(given ? { given } : {}) });
    }
    if (msg.t === 'hello' && msg.thread === 'main') report.loaded = true;
    else if (msg.t === 'hello' && msg.thread === 'worker') {
      const worker = report.uses.find((u) => u.scope === 'worker');
      if (worker) worker.hits++;
      else report.uses.push({ scope: 'worker', hits: 1 });
    } else if (msg.t === 'touch' && typeof msg.file === 'string') {
      let entry = touchedAt.get(msg.file);
      if (entry) entry.hits = (entry.hits ?? 1) + 1;
      else {
        entry = { file: msg.file, hits: 1 };
        if (typeof msg.site === 'string') entry.from = msg.site;
        if (typeof msg.api === 'string') entry.api = msg.api;
        touchedAt.set(msg.file, entry);
        report.touched.push(entry);
      }
      count(msg.thread, `touch\u0000${msg.file}`, entry);
    } else if (msg.t === 'miss' && typeof msg.file === 'string') {
      const entry: LoadedFile = { file: msg.file };
      if (typeof msg.site === 'string') entry.from = msg.site;
      if (typeof msg.api === 'string') entry.api = msg.api;
      report.missing.push(entry);
    } else if (msg.t === 'use' && msg.scope === 'child') {
      const use: Use = { scope: 'child', hits: 1 };
      if (typeof msg.site === 'string') use.site = msg.site;
      if (typeof msg.api === 'string') use.api = msg.api;
      report.uses.push(use);
      count(msg.thread, 'child', use);
    } else if (msg.t === 'hits' && msg.counts !== null && typeof msg.counts === 'object') {
      const last = (msg.last !== null && typeof msg.last === 'object' ? msg.last : {}) as Record<string, unknown>;
      for (const [key, n] of Object.entries(msg.counts as Record<string, unknown>)) {
        const target = counted.get(`${String(msg.thread)}\u0000${key}`) as { hits?: number; lastTime?: number } | undefined;
        if (target && typeof n === 'number' && n > 0) target.hits = (target.hits ?? 1) + n;
        const when = last[key];
        if (target && 'source' in target && typeof when === 'number') target.lastTime = Math.max(target.lastTime ?? 0, when);
      }
    } else if (msg.t === 'dropped' && typeof msg.time === 'number') {
      report.dropped = { time: msg.time, applied: typeof msg.applied === 'number' ? msg.applied : 0, ...(typeof msg.error === 'string' ? { error: msg.error } : {}) };
    }
    else if (msg.t === 'exit' && typeof msg.code === 'number') report.exitCode = msg.code;
    else if (msg.t === 'probe' && Array.isArray(msg.files)) {
      for (const f of msg.files) {
        if (typeof f !== 'string' || seenFiles.has(f)) continue;
        seenFiles.add(f);
        report.probes.push(typeof msg.from === 'string' ? { file: f, from: msg.from } : { file: f });
      }
    } else if (msg.t === 'load' && typeof msg.file === 'string') {
      if (!seenFiles.has(msg.file)) report.modules.push(typeof msg.from === 'string' ? { file: msg.file, from: msg.from } : { file: msg.file });
      seenFiles.add(msg.file);
    }
    else if (msg.t === 'denial' && typeof msg.permission === 'string' && typeof msg.resource === 'string' && SOURCES.has(String(msg.source))) {
      const d: Denial = {
        permission: msg.permission,
        resource: msg.resource,
        code: typeof msg.code === 'string' ? msg.code : 'ERR_ACCESS_DENIED',
        source: msg.source as DenialSource,
      };
      if (typeof msg.cwd === 'string') d.cwd = msg.cwd;
      if (typeof msg.message === 'string') d.message = msg.message;
      if (typeof msg.site === 'string') d.site = msg.site;
      if (msg.thread === 'worker' || msg.thread === 'main' || msg.thread === 'child') d.thread = msg.thread;
      if (typeof msg.existed === 'boolean') d.existed = msg.existed;
      if (msg.via === 'process.dlopen' || msg.via === 'require' || msg.via === 'WASI') d.via = msg.via;
      if (msg.resourceFrom === 'argument') d.resourceFrom = 'argument';
      if (typeof msg.time === 'number') d.time = msg.time;
      const given = childFlagsOf(msg.given);
      if (given && msg.thread === 'child') d.given = given;
      if (msg.asked === 'has' && d.source === 'channel') d.asked = 'has';
      report.denials.push(d);
      if (d.source === 'channel') count(msg.thread, `${d.asked === 'has' ? 'has' : 'check'}\u0000${d.permission}\u0000${d.resource}\u0000${d.cwd ?? ''}`, d);
    } else report.junk++;
  }
  // Module files are read by Node's loader through the same fs API: their load is the evidence.
  const moduleFiles = new Set(report.modules.map((m) => m.file));
  report.touched = report.touched.filter((t) => !moduleFiles.has(t.file));
  // An escaped error may lack a call site that the channel event for the same check (24+) has.
  for (const d of report.denials) {
    if (d.site !== undefined) continue;
    const twin = report.denials.find((o) => o.site !== undefined && o.permission === d.permission && o.resource === d.resource && o.cwd === d.cwd);
    if (twin) d.site = twin.site;
  }
  // A denial the recorder also saw leave process.dlopen or require(): the report that came first (the
  // channel's on 24+, the fs watcher's on 20/22), which is the one kept, says so too.
  const vias = report.denials.filter((d) => d.via !== undefined);
  for (const d of report.denials) {
    if (d.via !== undefined) continue;
    const twin = vias.find((o) => o.thread === d.thread && o.permission === d.permission && o.resource === d.resource && o.cwd === d.cwd);
    if (twin) d.via = twin.via;
  }
  return report;
}

/** The permission flags a child's recorder says the child was started with, if well formed. */
function childFlagsOf(value: unknown): ChildFlags | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { execArgv, nodeOptions } = value as Record<string, unknown>;
  const words = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 1000 && v.every((w) => typeof w === 'string' && w.length <= 4096);
  return words(execArgv) && words(nodeOptions) ? { execArgv: [...execArgv], nodeOptions: [...nodeOptions] } : undefined;
}
