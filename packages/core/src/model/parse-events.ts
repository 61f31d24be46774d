// Reads the recorder's report: one JSON object per line, written to an extra file descriptor.
import type { Denial, DenialSource } from './types.js';

export interface LoadedFile {
  file: string;
  /** The module whose require() led here, when known. */
  from?: string;
}

export interface RecorderReport {
  /** The recorder loaded in the app's main thread. */
  loaded: boolean;
  denials: Denial[];
  /** Exit code the app announced in its 'exit' event, if it got that far. */
  exitCode?: number;
  /** Lines that were not recorder messages (kept for debugging). */
  junk: number;
  /** CommonJS files the app loaded, in order, without repeats, with the file that loaded each. */
  modules: LoadedFile[];
  /** package.json paths the CommonJS resolver checked (whether or not they exist). */
  probes: LoadedFile[];
}

const SOURCES: ReadonlySet<string> = new Set<DenialSource>(['uncaught', 'logged', 'channel', 'caught']);

export function parseRecorderReport(text: string): RecorderReport {
  const report: RecorderReport = { loaded: false, denials: [], junk: 0, modules: [], probes: [] };
  const seenFiles = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      report.junk++;
      continue;
    }
    // Valid JSON that is not an object (`null`, `42`) is junk too, not a crash.
    if (msg === null || typeof msg !== 'object') {
      report.junk++;
      continue;
    }
    if (msg.t === 'hello' && msg.thread === 'main') report.loaded = true;
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
      report.denials.push(d);
    } else report.junk++;
  }
  // An escaped error may lack a call site that the channel event for the same check (24+) has.
  for (const d of report.denials) {
    if (d.site !== undefined) continue;
    const twin = report.denials.find((o) => o.site !== undefined && o.permission === d.permission && o.resource === d.resource && o.cwd === d.cwd);
    if (twin) d.site = twin.site;
  }
  return report;
}
