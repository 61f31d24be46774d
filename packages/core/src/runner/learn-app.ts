// The library's front door: learn the profile of one app, with real processes.
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { learn, type LearnEvent, type LearnResult } from '../model/learn.js';
import type { Capabilities } from '../model/node-versions.js';
import { buildProfile, type Profile } from '../model/profile.js';
import { renderFlags } from '../model/grants.js';
import { PermlearnError } from '../errors.js';
import { probeNode } from './node-binary.js';
import { createSession, realFs } from './session.js';
import { onAbort } from './processes.js';
import { portAccepting, runApp, type Readiness } from './run-app.js';
import { packageFinder } from './packages.js';
import { attributeDenial } from '../model/attribute.js';
import { tooBroad } from '../model/paths.js';
import type { Denial } from '../model/types.js';
import { DEFAULT_GRANULARITY, type Granularity } from '../model/generalise.js';
import { exposureOf } from './exposure.js';

export type Strategy = 'audit' | 'observe' | 'rerun';

export interface LearnAppOptions {
  entry: string;
  args?: string[];
  /** The app's working directory (default: the current one). */
  cwd?: string;
  /** Node binary to run the app under (default: the one running permlearn). */
  node?: string;
  readiness?: Readiness;
  maxRuns?: number;
  maxRunMs?: number;
  graceMs?: number;
  /** How long a ready app keeps running before it is stopped, so that an early crash counts. */
  settleMs?: number;
  env?: NodeJS.ProcessEnv;
  /** `audit`: one --permission-audit run first (24+); `observe`: one run that may read the whole app
   *  root, keeping the modules it loaded; `rerun`: enforce runs only; `auto`: audit where Node has it,
   *  else observe. */
  strategy?: Strategy | 'auto';
  /** Shell commands run one after another once the app is ready, in every run (curl calls, a test
   *  suite pointed at the server), so that what the app needs to serve them is learned too. A command
   *  that fails is reported in `profile.exercise`. */
  exercise?: string[];
  /** After verification, try the app without each grant and keep only what it needs to start. */
  minimize?: boolean;
  /** How far a grant may reach beyond the file that asked for it (default `deps`, see model/generalise.ts). */
  granularity?: Granularity;
  /** The project root: no grant is widened to it or above it (default: the nearest folder with a
   *  package.json above the entry). */
  root?: string;
  onEvent?: (event: LearnEvent) => void;
  /** Called once the Node version is known, before the first run. */
  onStart?: (caps: Capabilities) => void;
}

export interface LearnAppResult {
  profile: Profile;
  result: LearnResult;
  caps: Capabilities;
}

export const DEFAULTS = { maxRuns: 300, maxRunMs: 60_000, graceMs: 3_000, settleMs: 300 };

export async function learnApp(options: LearnAppOptions): Promise<LearnAppResult> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  if (!existsSync(cwd)) throw new PermlearnError('usage', `--cwd ${cwd} does not exist`);
  const entry = path.resolve(cwd, options.entry);
  if (!existsSync(entry)) throw new PermlearnError('usage', `entry file ${entry} does not exist`);
  const node = options.node ?? process.execPath;
  const caps = await probeNode(node);
  const readiness = options.readiness ?? {};
  if (readiness.port !== undefined && (await portAccepting(readiness.port))) {
    throw new PermlearnError('usage', `port ${readiness.port} already accepts connections before the app starts; --ready-port would be meaningless`);
  }
  const requested = options.strategy ?? 'auto';
  if (requested === 'audit' && !caps.audit) {
    throw new PermlearnError('usage', `--strategy audit needs Node 24 or later (--permission-audit); ${caps.version.raw} has no audit mode`);
  }
  const findPackage = packageFinder();
  const appRoot = findPackage(path.dirname(entry))?.dir ?? cwd;
  const root = options.root === undefined ? appRoot : path.resolve(cwd, options.root);
  if (realFs.kind(root) !== 'dir') throw new PermlearnError('usage', `--root ${root} is not a directory`);
  const granularity = options.granularity ?? DEFAULT_GRANULARITY;
  // The observe run's wide grant must itself respect the limits on how far a grant may reach.
  const rootTooBroad = tooBroad(appRoot, realFs.homedir);
  if (requested === 'observe' && rootTooBroad) {
    throw new PermlearnError('usage', `--strategy observe would let the app read ${appRoot} (${rootTooBroad}); put the app in a folder with a package.json`);
  }
  const strategy: Strategy = requested === 'auto' ? (caps.audit ? 'audit' : rootTooBroad ? 'rerun' : 'observe') : requested;
  options.onStart?.(caps);
  const session = createSession();
  const forget = onAbort(session.dispose);
  try {
    const spec = {
      node,
      entry,
      args: options.args ?? [],
      cwd,
      readiness,
      maxRunMs: options.maxRunMs ?? DEFAULTS.maxRunMs,
      graceMs: options.graceMs ?? DEFAULTS.graceMs,
      settleMs: options.settleMs ?? DEFAULTS.settleMs,
      ...(options.exercise?.length ? { exercise: options.exercise } : {}),
      ...(options.env ? { env: options.env } : {}),
    };
    // Node grants the entry as given on 22+ (not through a symlink): it joins the prefix-quirk checks.
    const implicit = caps.autoGrantsEntry ? [entry] : [];
    const result = await learn({
      caps,
      fs: realFs,
      maxRuns: options.maxRuns ?? DEFAULTS.maxRuns,
      implicitReadGrants: implicit,
      audit: strategy === 'audit',
      generalise: { granularity, root, tmpdir: os.tmpdir() },
      minimize: options.minimize === true,
      ...(strategy === 'observe' ? { observeRoot: appRoot } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      runApp: ({ phase, grants, extraGrants }) => {
        const flags = renderFlags([...grants, ...(extraGrants ?? [])], caps);
        // Audit mode replaces the enable flag; grants given with it are simply not reported.
        if (phase === 'audit') flags[0] = '--permission-audit';
        if (phase === 'verify') return runApp(spec, { flags });
        if (phase !== 'observe') return runApp(spec, { flags, recorderPath: session.recorderPath, eventsDir: session.eventsDir });
        // Without in-thread module hooks, ES module loads are watched from a hooks thread (--import).
        const esm = caps.inThreadModuleHooks ? {} : { imports: [session.esmRegisterPath], preloadReads: session.esmReadPaths };
        return runApp(spec, { flags, recorderPath: session.observerPath, eventsDir: session.eventsDir, ...esm });
      },
    });
    // Say who asked for each grant: a dependency (name@version) or the app's own file.
    const attribute = (d: Denial) => {
      const a = attributeDenial(d, appRoot, findPackage);
      if (a) Object.assign(d, a);
    };
    for (const g of result.grants) g.denials.forEach(attribute);
    result.observed.forEach(attribute);
    for (const u of result.ungrantable) attribute(u.denial);
    const profile = buildProfile(result, { caps, entry, args: spec.args, cwd, strategy, root, granularity, exposure: exposureOf });
    if (options.exercise?.length) {
      profile.exercise = { commands: options.exercise, results: result.last?.exercise ?? [] };
    } else if (readiness.stdout || readiness.port !== undefined || readiness.url || readiness.aliveAfterMs !== undefined) {
      profile.warnings.push('learned from start-up alone: what the app needs to serve requests was not seen (pass --exercise with commands that use it)');
    }
    return { profile, result, caps };
  } finally {
    forget();
    session.dispose();
  }
}
