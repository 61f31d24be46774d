// What a recorder report holds once its lines are read (parse-events.ts reads them): the report's shape,
// an empty one, a Node child's report merged into the app's, and the part of it a run's result keeps.
import type { ChildFlags, Denial } from './types.js';

export interface LoadedFile {
  file: string;
  /** The module whose require() led here, or for a file read through the fs API the call site. */
  from?: string;
  /** For a file read through the fs API: the app's frames above `from`, innermost first. */
  callers?: string[];
  /** How many times it was used (reads of the same file, loads of the same module). */
  hits?: number;
  /** The fs API that read it (`readFileSync` ...), for files read rather than loaded. */
  api?: string;
  /** A process's own entry point (the main script its hello names), loaded by that process. */
  ownEntry?: true;
}

/** A Worker the app started outside the permission model (its own execArgv, without --permission). */
export interface Unbound {
  api: 'Worker';
  /** Where the first one was started. */
  site?: string;
  hits: number;
}

/** A capability the app used during an observe run, where nothing denied it. */
export interface Use {
  scope: 'child' | 'worker';
  /** The call site, when known. */
  site?: string;
  /** The API (`execFileSync` ...), when known. */
  api?: string;
  hits: number;
  /** When the first one started (epoch ms): before or after a refused addon (fallback.ts). */
  time?: number;
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
  /** Workers started outside the permission model. */
  unbound: Unbound[];
  /** Paths the app looked up that did not exist (observe runs), with the call site. */
  missing: LoadedFile[];
  /** Folders the app listed through the fs API (readdir, opendir), each once. */
  listed: string[];
  /** When the recorder applied a drop plan (drop-plan verification runs). */
  dropped?: { time: number; applied: number; error?: string };
  /** Every Node process the recorder ran in (its hello), with its main script. */
  processes: { pid: number; main?: string; thread: string; given?: ChildFlags; openCwd?: string }[];
}

export function emptyReport(): RecorderReport {
  return {
    loaded: false,
    denials: [],
    junk: 0,
    forged: 0,
    oversized: 0,
    modules: [],
    probes: [],
    touched: [],
    uses: [],
    unbound: [],
    missing: [],
    listed: [],
    processes: [],
  };
}

/** The recorder's part of a run's result (RunResult), taken from its report in one place. */
export type RunReportFields = Pick<RecorderReport, 'denials' | 'modules' | 'probes' | 'touched' | 'uses' | 'missing' | 'listed'> &
  Partial<Pick<RecorderReport, 'dropped' | 'unbound'>>;

export function runFieldsOf(report: RecorderReport): RunReportFields {
  const { denials, modules, probes, touched, uses, missing, listed, dropped, unbound } = report;
  return { denials, modules, probes, touched, uses, missing, listed, ...(dropped ? { dropped } : {}), ...(unbound.length ? { unbound } : {}) };
}

/**
 * The modules of `report` that are the entry point of a process of `thread` in it (the main script its
 * hello names), marked `ownEntry`: Node 22+ lets a process read its own entry without a grant
 * (observe.ts). `main` for a command's first Node process (`permlearn run -- node app.js`), which
 * reports on the app's channel; `child` for the Node children it starts.
 */
export function markOwnEntries(report: RecorderReport, thread: 'main' | 'child'): LoadedFile[] {
  const mains = new Set(report.processes.filter((p) => p.thread === thread && p.main !== undefined).map((p) => p.main));
  return mains.size === 0 ? report.modules : report.modules.map((m) => (mains.has(m.file) ? { ...m, ownEntry: true as const } : m));
}

/**
 * A child's report merged into the app's: its lines, all marked as a child's. Each report was finished
 * on its own (a child's twins are its own), as before.
 */
export function mergeReports(into: RecorderReport, child: RecorderReport): RecorderReport {
  into.denials.push(...child.denials.map((d) => ({ ...d, thread: 'child' as const })));
  into.modules.push(...markOwnEntries(child, 'child'));
  into.probes.push(...child.probes);
  into.touched.push(...child.touched);
  into.uses.push(...child.uses);
  into.unbound.push(...child.unbound);
  into.missing.push(...child.missing);
  for (const f of child.listed) if (!into.listed.includes(f)) into.listed.push(f);
  into.processes.push(...child.processes);
  return into;
}
