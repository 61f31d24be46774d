// The learn loop's vocabulary: what a run returns, what the loop is asked and what it answers. Types only.
import type { Denial, FsProbe, PathKind, Scope, Strategy } from '../types.js';
import type { Capabilities } from '../node-versions.js';
import type { UngrantableCode } from '../denials.js';
import type { Grant, GrantTarget } from '../grants.js';
import type { BreadthViolation } from '../breadth.js';
import type { RecorderReport } from '../parse-events.js';
import type { GeneraliseContext } from '../generalise.js';
import type { SetAside, VolatileContext } from '../volatile.js';
import type { LostInChild } from '../child-flags.js';
import type { PrimeStrategy } from './strategies/types.js';
import type { DropCall } from '../drop-plan/plan.js';

/** What signalled a run's readiness: a stdout line, the port, the URL, or being alive after a while (`timeout`). */
export type ReadyBy = 'stdout' | 'port' | 'url' | 'timeout';

/** How one run of the app ended, as the runner saw it. */
export interface RunResult {
  /** `ready`: the readiness signal was reached; `exited`: the app ended by itself;
   *  `timeout`: it neither exited nor became ready in time; `spawn-error`: it never started. */
  outcome: 'ready' | 'exited' | 'timeout' | 'spawn-error';
  exitCode?: number | null;
  signal?: string | null;
  /** What signalled readiness. */
  readyBy?: ReadyBy;
  /** Denials the recorder reported (empty when it did not run). */
  denials: Denial[];
  /** The recorder loaded in the app's main thread. */
  recorderLoaded: boolean;
  /** CommonJS files the app loaded (from the recorder). */
  modules?: RecorderReport['modules'];
  /** package.json paths the CommonJS resolver checked, existing or not (from the recorder). */
  probes?: RecorderReport['probes'];
  /** Paths read successfully through the fs API (observe runs). */
  touched?: RecorderReport['touched'];
  /** Child processes and Workers started (observe runs). */
  uses?: RecorderReport['uses'];
  /** Paths looked up that did not exist (observe runs). */
  missing?: RecorderReport['missing'];
  /** Folders the app listed through the fs API (readdir, opendir). */
  listed?: RecorderReport['listed'];
  /** Workers the app started outside the permission model (its own execArgv, without --permission). */
  unbound?: RecorderReport['unbound'];
  /** Working folders a process of the run could read before its code ran (hello `openCwd`): granted by
   *  these flags, or by Node to a process started without an entry file. */
  openCwd?: string[];
  /** Denial blocks found in stderr (used only when the recorder did not run). */
  stderrDenials: Denial[];
  /** The end of the app's stderr, for the report. */
  stderrTail: string;
  /** The end of the app's stdout (the report shows it when a readiness signal never came); also kept
   *  for a run that exited with an error, to explain it (never evidence). */
  stdoutTail?: string;
  /** The readiness signal the run waited for, in words (`stdout line matching /listening/`). */
  waitedFor?: string;
  /** What was wrong with the run's evidence, when something was: lines and files not written by the
   *  recorder (ignored), bytes over the channel's limit and child files over theirs (not read). */
  evidence?: EvidenceCounts;
  /** The exercise commands run once the app was ready (in order; the first failure ends the list). */
  exercise?: ExerciseResult[];
  /** When the app was seen ready (epoch ms). */
  readyTime?: number;
  /** When the recorder applied a drop plan in the app (drop-plan verification runs). */
  dropped?: RecorderReport['dropped'];
  durationMs: number;
  error?: string;
  /** A Node child of the app was started from the run's flags but without some of them (child-flags.ts). */
  childLost?: LostInChild;
}

export interface EvidenceCounts {
  forged: number;
  forgedFiles: number;
  forgedLines: number;
  channelDropped: number;
  cappedFiles: number;
}

/** How one exercise command went. */
export interface ExerciseResult {
  command: string;
  /** null when it was killed (timed out). */
  exitCode: number | null;
  timedOut?: boolean;
  durationMs: number;
  /** The end of its output, when it failed. */
  outputTail?: string;
}

export type Phase = 'audit' | 'observe' | 'learn' | 'tighten' | 'minimize' | 'verify';

/** The phases a strategy's priming runs may use (`learn`: a plain enforce run); a new one goes to Phase. */
export type PrimePhase = Exclude<Phase, 'tighten' | 'minimize' | 'verify'>;

/** The runs of drop-plan learning (drop-plan/learn.ts): audit mode alone, then enforce mode with drops at readiness. */
export type DropPhase = 'drop-timing' | 'drop-verify';

export interface RunRequest {
  run: number;
  /** `audit`: under --permission-audit, nothing denied, every check reported; `learn`: enforce mode
   *  with the recorder; `observe`: enforce mode plus `extraGrants`, to see what the app loads;
   *  `verify`: enforce mode with exactly the grants and nothing else. */
  phase: Phase | DropPhase;
  grants: Grant[];
  /** Temporary grants for this run only (the wide read grant of an observe run). */
  extraGrants?: Grant[];
  /** `drop-verify`: what the recorder drops once the app is ready. */
  drops?: DropCall[];
}

export type RunApp = (request: RunRequest) => Promise<RunResult>;

export type LearnStatus = 'verified' | 'app-failed' | 'no-progress' | 'run-limit' | 'ungrantable' | 'verify-failed' | 'too-broad' | 'child-lost-grants';

export interface Ungrantable {
  denial: Denial;
  code: UngrantableCode;
  reason: string;
}

/** A need permlearn refused to grant because the grant would break the breadth rule (breadth.ts). */
export interface Refusal {
  denial: Denial;
  /** The grant that would have answered it. */
  grant: GrantTarget;
  violation: BreadthViolation;
  /** Why permlearn chose that grant, when it is not the resource itself (the prefix-quirk widening). */
  because?: string;
}

/** Progress events, for a live report. */
export type LearnEvent =
  | { type: 'run-start'; run: number; phase: Phase; grants: number }
  | { type: 'run-end'; run: number; phase: Phase; result: RunResult }
  | { type: 'audit-done'; run: number; events: number; candidates: number }
  | { type: 'observe-done'; run: number; modules: number; candidates: number; root: string }
  /** The end of a priming run of a strategy with no event of its own. */
  | { type: 'prime-done'; strategy: Strategy; run: number; candidates: number }
  | { type: 'granted'; run: number; grant: Grant; denial: Denial }
  | { type: 'widened'; run: number; from: string; to: string; scope: Scope; because: string }
  /** Grants learned only on a loader's fallback path (after `because` was denied), set aside now that it is granted. */
  | { type: 'set-aside'; run: number; grants: Grant[]; because: Denial }
  /** Grants set aside earlier that a later run needed after all, given back. */
  | { type: 'restored'; run: number; grants: Grant[] }
  | { type: 'minimized'; run: number; grant: Grant; outcome: 'removed' | 'narrowed' | 'kept'; to?: Grant[] }
  /** From this run on the flags reach the app through NODE_OPTIONS, because a Node child lost them. */
  | { type: 'delivery'; run: number; delivery: 'node-options'; because: string };

export interface LearnOptions {
  runApp: RunApp;
  caps: Capabilities;
  fs: FsProbe;
  maxRuns: number;
  /** Paths Node grants for reading without a flag (the entry file on 22+): they take part in the prefix quirk. */
  implicitReadGrants?: string[];
  /** Grants to start from (none by default). */
  initialGrants?: Grant[];
  /** The strategy's priming runs (strategies/: `learnStrategy('audit')`, …); absent: enforce runs only (`rerun`). */
  strategy?: PrimeStrategy | undefined;
  /** Grant what a cleanly starting app was denied and survived (caught denials, `has()` answered no).
   *  Default true: the app asked. False leaves them in `observed`. */
  grantCaught?: boolean;
  /** After verification, try the app without each grant and keep only what it needs (bounded by maxRuns). */
  minimize?: boolean;
  /** Tight: a grant whose only evidence is soft (a denial the app survived, a lookup of a missing path)
   *  is kept only if the app fails without it, tried in groups (tighten.ts); a clean run's caught
   *  denials are not granted. Off: they are granted as `grantCaught` says. */
  tighten?: boolean;
  /** When the first run's evidence is complete (it ran to the end), verify its grants at once instead
   *  of confirming them with an enforce run first; the loop runs only if that verification fails. */
  fold?: boolean;
  /** How far a grant may reach beyond the file that asked for it (default: exactly that file). */
  generalise?: Omit<GeneraliseContext, 'fs'>;
  /** Grants (rendered values, absolute) the user accepted although they break the breadth rule. */
  acceptBroad?: readonly string[];
  /** Paths that are not the same on the next run, and permlearn's own: set aside or put in their stable
   *  form before anything is granted (model/volatile.ts). */
  volatile?: VolatileContext;
  onEvent?: (event: LearnEvent) => void;
  /** A Node child was started without grants the app had (its execArgv rebuilt): give every later run
   *  its flags in NODE_OPTIONS instead, which such a child still reads. True if the runner switched
   *  (it does so once); absent or false: learning stops with `child-lost-grants`. */
  deliverViaNodeOptions?: () => boolean;
}

export interface LearnResult {
  status: LearnStatus;
  grants: Grant[];
  /** Every run, the verification run included. */
  runs: number;
  /** Denials the app survived (caught, or published and not needed): seen, not granted. */
  observed: Denial[];
  ungrantable: Ungrantable[];
  /** What the app asked for that permlearn would not grant (too broad), needed or not. */
  refused: Refusal[];
  /** One sentence on why learning stopped, when it did not succeed. */
  reason?: string;
  /** What --minimize changed: grants the app started without, and widened grants it needed only narrowed. */
  minimized?: Minimized;
  /** The last run's result (the verification run when there was one). */
  last?: RunResult;
  /** Needs not granted because their path will not be the same on the next run, or is permlearn's own. */
  setAside?: SetAside[];
  /** What tightening took out and kept (candidates: grants whose only evidence is soft). */
  tightened?: Tightened;
  /** How the flags must reach the app: `node-options` when a Node child of it gets them only from there. */
  delivery?: 'node-options';
  /** Workers the app started outside the permission model (any run). */
  unbound?: RunResult['unbound'];
  /** Working folders Node let a process read without any grant of its run covering them (see RunResult.openCwd). */
  nodeOpened?: string[];
}

export interface Tightened {
  removed: Grant[];
  kept: Grant[];
  /** Candidates kept untried because the run budget ran out. */
  untried: Grant[];
  /** Trial runs spent (the verification run without the candidates not counted). */
  trials: number;
}

export interface Minimized {
  removed: Grant[];
  narrowed: { from: Grant; to: Grant[] }[];
  /** Grants left untried when the run budget ran out. */
  untried: Grant[];
}
