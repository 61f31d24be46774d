// The recorder's protocol: every message the in-app recorder (recorder/*.cjs, esm-hooks.mjs) writes on
// its channel, and every line the record preload (recorder/record.cjs) writes into a record file, as one
// typed union each. The recorder is plain CommonJS run inside the app, so it cannot import this file:
// it builds the same shapes and the same repeat-count keys by hand, and says so where it does. A new
// message kind starts here (see CONTRIBUTING.md, "Add a recorder message").
import type { ChildFlags } from './types.js';

/** Which kind of thread or process a line came from. */
export type RecorderThread = 'main' | 'worker' | 'child';

/** The recorder loaded in a thread or process (first line of each). */
export interface HelloMessage {
  t: 'hello';
  thread: RecorderThread;
  pid: number;
  node: string;
  main?: string;
  /** A Node child's permission flags, as it was really started. */
  given?: ChildFlags;
  /** The working folder, when process.permission.has() said before any app code ran that the process may
   *  read it: Node grants it to a process started without an entry file (`node --test` naming none). */
  openCwd?: string;
}

/** A permission denial Node produced. `source`: how the recorder saw it. */
export interface DenialMessage {
  t: 'denial';
  source: 'uncaught' | 'logged' | 'channel' | 'caught';
  thread: RecorderThread;
  permission: string;
  resource: string;
  code?: string;
  message?: string;
  cwd?: string;
  site?: string;
  /** The app's frames above `site`, innermost first (at most a few; the recorder stops at a frame of Node's). */
  callers?: string[];
  time?: number;
  existed?: boolean;
  via?: 'process.dlopen' | 'require' | 'WASI';
  /** With `via` process.dlopen: the addon file require() was loading. */
  file?: string;
  /** A channel fs check made by Node's module loader (package scopes, resolution), not by an fs call of the app. */
  loader?: true;
  resourceFrom?: 'argument';
  given?: ChildFlags;
  asked?: 'has';
  /** The fs function the denied call went through (`mkdirSync`, `promises.mkdir` is `mkdir`), as the recorder's wrapper saw it. */
  call?: string;
}

/** A path the fs API read successfully (observe runs). */
export interface TouchMessage {
  t: 'touch';
  thread: RecorderThread;
  file: string;
  api?: string;
  site?: string;
  /** The app's frames above `site`, innermost first (at most a few; the recorder stops at a frame of Node's). */
  callers?: string[];
}

/** A path the app looked up that did not exist (observe runs). */
export interface MissMessage {
  t: 'miss';
  thread: RecorderThread;
  file: string;
  api?: string;
  site?: string;
  /** The app's frames above `site`, innermost first (at most a few; the recorder stops at a frame of Node's). */
  callers?: string[];
}

/** A folder the app listed through the fs API (readdir, opendir): a check of the folder's own path that
 *  reads more than its entry, sent once per folder whatever call checked it first (narrow.ts). */
export interface ListMessage {
  t: 'list';
  thread: RecorderThread;
  file: string;
  api?: string;
  site?: string;
}

/** A child process started (observe runs). */
export interface UseMessage {
  t: 'use';
  thread: RecorderThread;
  scope: 'child';
  api?: string;
  site?: string;
}

/** A Worker started with an execArgv of its own that lacks --permission: Node runs it without the
 *  permission model (every run, enforce included). */
export interface UnboundMessage {
  t: 'unbound';
  thread: RecorderThread;
  api: 'Worker';
  site?: string;
}

/** Repeats of what was already reported, by key (see the key builders below), with the last time seen. */
export interface HitsMessage {
  t: 'hits';
  thread: RecorderThread;
  counts: Record<string, number>;
  last?: Record<string, number>;
}

/** A CommonJS or ES module file that loaded. */
export interface LoadMessage {
  t: 'load';
  thread: RecorderThread;
  file: string;
  from?: string;
}

/** package.json files the CommonJS resolver checked for one require(). */
export interface ProbeMessage {
  t: 'probe';
  thread: RecorderThread;
  files: string[];
  from?: string;
}

/** The drop plan was applied in the app (drop-plan verification runs). */
export interface DroppedMessage {
  t: 'dropped';
  time: number;
  applied: number;
  error?: string;
}

/** The main thread's exit event. */
export interface ExitMessage {
  t: 'exit';
  code: number;
}

export type RecorderMessage =
  | HelloMessage
  | DenialMessage
  | TouchMessage
  | MissMessage
  | ListMessage
  | UseMessage
  | UnboundMessage
  | HitsMessage
  | LoadMessage
  | ProbeMessage
  | DroppedMessage
  | ExitMessage;
export type RecorderMessageKind = RecorderMessage['t'];

/** Every kind once, keyed by the union (the compiler asks for a new kind here). */
const KINDS: { readonly [K in RecorderMessageKind]: true } = {
  hello: true,
  denial: true,
  touch: true,
  miss: true,
  list: true,
  use: true,
  unbound: true,
  hits: true,
  load: true,
  probe: true,
  dropped: true,
  exit: true,
};

/** Every kind, in one list (the contract test checks the recorder emits each). */
export const RECORDER_MESSAGE_KINDS = Object.keys(KINDS) as readonly RecorderMessageKind[];

// Record files (record.cjs): a header, one line per entry, a summary. Parsed in records.ts.
export interface RecordHeaderLine {
  t: 'record';
  v: 1;
  pid: number;
  node: string;
  mode: string;
  main?: string;
  cwd?: string;
  started: number;
  unseen: unknown;
  signed: boolean;
  max: number;
}
export interface RecordSeenLine {
  t: 'seen';
  [field: string]: unknown;
}
export interface RecordSummaryLine {
  t: 'summary';
  flushed: number;
  entries: number;
  dropped: unknown;
  final: boolean;
}
export type RecordFileLine = RecordHeaderLine | RecordSeenLine | RecordSummaryLine;

// Repeat-count keys. The recorder counts a repeat under the key of the message it first sent, and the
// parser finds that message again by the same key: recorder/channels.cjs (checks) and recorder/fs.cjs
// (touch, miss) build these strings the same way.
const SEP = '\u0000';

/** A published permission check: `check` for an access, `has` for one the app's own has() asked. */
export function checkKey(asked: 'has' | undefined, permission: string, resource: string, cwd: string | undefined): string {
  return `${asked === 'has' ? 'has' : 'check'}${SEP}${permission}${SEP}${resource}${SEP}${cwd ?? ''}`;
}

/** A path read through the fs API. */
export function touchKey(file: string): string {
  return `touch${SEP}${file}`;
}

/** A path looked up that did not exist. */
export function missKey(file: string): string {
  return `miss${SEP}${file}`;
}

/** A folder listed through the fs API. */
export function listKey(file: string): string {
  return `list${SEP}${file}`;
}

/** Child processes started (one key for all). */
export const CHILD_KEY = 'child';

/** Workers started outside the permission model (one key for all). */
export const UNBOUND_KEY = 'unbound';
