// The library's front door: learn the profile of one app, with real processes.
import os from 'node:os';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { learn, type LearnEvent, type LearnResult } from '../model/learn.js';
import type { Capabilities } from '../model/node-versions.js';
import { buildProfile, shellQuote, type Profile } from '../model/profile.js';
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
  const cwd = resolveCwd(options.cwd);
  const entry = path.resolve(cwd, options.entry);
  if (!existsSync(entry)) throw new PermlearnError('usage', `entry file ${entry} does not exist`);
  const findPackage = packageFinder();
  return learnTarget({ entry, args: options.args ?? [], cwd, appRoot: findPackage(path.dirname(entry))?.dir ?? cwd, findPackage }, options);
}

export interface LearnCommandOptions extends Omit<LearnAppOptions, 'entry' | 'args'> {
  /** The command as argv (`['npm', 'start']`, `['node', '--import', 'tsx', 'src/server.ts']`). */
  command: string[];
}

/**
 * `permlearn run -- <command...>`: learn what every Node process a command starts needs. The flags and
 * the recorder travel in NODE_OPTIONS; `npm|pnpm|yarn start|test|run <script>` runs the script itself
 * (as the package manager would, with node_modules/.bin on PATH), so the package manager stays out of
 * the profile.
 */
export async function learnCommand(options: LearnCommandOptions): Promise<LearnAppResult> {
  if (options.command.length === 0) throw new PermlearnError('usage', 'permlearn run needs a command after --');
  const cwd = resolveCwd(options.cwd);
  const findPackage = packageFinder();
  const appRoot = findPackage(cwd)?.dir ?? cwd;
  const command = packageScript(options.command, appRoot) ?? options.command;
  return learnTarget({ entry: '', args: [], command, given: options.command, cwd, appRoot, findPackage }, options);
}

function resolveCwd(given: string | undefined): string {
  const cwd = path.resolve(given ?? process.cwd());
  if (!existsSync(cwd)) throw new PermlearnError('usage', `--cwd ${cwd} does not exist`);
  return cwd;
}

const PACKAGE_MANAGERS = new Set(['npm', 'pnpm', 'yarn']);

/** `npm start`, `pnpm run dev -- --x`, `yarn test`: the script's own command line, run by `sh -c`. */
export function packageScript(command: string[], appRoot: string): string[] | undefined {
  const [pm, verb, ...rest] = command;
  if (!pm || !PACKAGE_MANAGERS.has(path.basename(pm)) || !verb) return undefined;
  let name: string | undefined;
  let extra: string[] = [];
  if (verb === 'start' || verb === 'test') {
    name = verb;
    extra = rest;
  } else if (verb === 'run' || verb === 'run-script') {
    [name, ...extra] = rest;
  } else if (path.basename(pm) !== 'npm' && !verb.startsWith('-')) {
    name = verb; // `pnpm dev`, `yarn dev`
    extra = rest;
  }
  if (!name) return undefined;
  if (extra[0] === '--') extra = extra.slice(1);
  let scripts: Record<string, unknown> = {};
  try {
    scripts = (JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> }).scripts ?? {};
  } catch {
    return undefined;
  }
  let script = scripts[name];
  // `npm start` without a start script runs `node server.js`, as npm does.
  if (script === undefined && name === 'start' && existsSync(path.join(appRoot, 'server.js'))) script = 'node server.js';
  if (typeof script !== 'string') throw new PermlearnError('usage', `package.json in ${appRoot} has no "${name}" script`);
  const line = [script, ...extra.map(shellQuote)].join(' ');
  // What the package manager would do first: its bin folders on PATH (nearest first).
  const bins: string[] = [];
  for (let dir = appRoot; ; dir = path.dirname(dir)) {
    bins.push(path.join(dir, 'node_modules', '.bin'));
    if (path.dirname(dir) === dir) break;
  }
  return ['/bin/sh', '-c', `PATH=${shellQuote(bins.join(path.delimiter))}:"$PATH"; ${line}`];
}

interface Target {
  /** The entry file (absolute), or '' for a command. */
  entry: string;
  args: string[];
  command?: string[];
  /** The command as the user gave it (before a package script was looked up). */
  given?: string[];
  cwd: string;
  appRoot: string;
  findPackage: ReturnType<typeof packageFinder>;
}

async function learnTarget(target: Target, options: Omit<LearnAppOptions, 'entry' | 'args'>): Promise<LearnAppResult> {
  const { entry, cwd, appRoot, findPackage } = target;
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
      args: target.args,
      cwd,
      readiness,
      maxRunMs: options.maxRunMs ?? DEFAULTS.maxRunMs,
      graceMs: options.graceMs ?? DEFAULTS.graceMs,
      settleMs: options.settleMs ?? DEFAULTS.settleMs,
      ...(options.exercise?.length ? { exercise: options.exercise } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(target.command ? { command: target.command } : {}),
    };
    // Node grants the entry as given on 22+ (not through a symlink): it joins the prefix-quirk checks.
    const implicit = caps.autoGrantsEntry && entry ? [entry] : [];
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
    const profile = buildProfile(result, { caps, entry: target.given?.join(' ') ?? entry, args: spec.args, cwd, strategy, root, granularity, exposure: exposureOf });
    if (target.given) profile.command = target.given;
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
