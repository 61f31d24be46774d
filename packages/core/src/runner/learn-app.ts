// The library's front door: learn the profile of one app, with real processes.
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import {
  autoStrategy,
  learn,
  learnStrategy,
  LEARN_STRATEGY_ENTRIES,
  type LearnEvent,
  type LearnResult,
  type RunRequest,
  type RunResult,
} from '../model/learn/index.js';
import { learnDropPlan } from '../model/drop-plan/index.js';
import { normaliseGrants, type Grant } from '../model/grants.js';
import type { Capabilities } from '../model/node-versions.js';
import { buildProfile, type Profile } from '../model/profile.js';
import { renderFlags } from '../model/grants.js';
import { PermlearnError } from '../errors.js';
import { probeNode } from './node-binary.js';
import { createSession, realFs } from './session.js';
import { createCatchProbe } from './guarded-site.js';
import { onAbort, useWatchdogNode } from './processes.js';
import { portAccepting, runApp as runAppOnce, type AppSpec, type Readiness } from './run-app.js';
import { packageFinder } from './packages.js';
import { entryProjectRoot, packageRoot } from './project.js';
import { attributeDenial, type Attribution } from '../model/attribute.js';
import { packageScript } from './package-script.js';
import { breadthViolation } from '../model/breadth.js';
import type { Denial, Strategy } from '../model/types.js';
import { DEFAULT_GRANULARITY, type Granularity } from '../model/generalise.js';
import { exposureOf } from './exposure.js';
import { addCounts, evidenceNotes, NO_EVIDENCE_PROBLEMS } from './evidence.js';
import { appEnvironment, insideInstallation, permlearnInstallation } from './app-env.js';
import { CleanState, initialAreas } from './clean-state.js';
import { isSameOrUnder, resourcePath } from '../model/paths/index.js';
import type { RunResult as Run } from '../model/learn/index.js';
import { requestPaths } from '../model/learn/request-folder.js';
import { recordDenials, recordsCaveats, seenInRecords, type MergedRecords } from '../model/records/index.js';
import { phase } from './timing.js';
import { TIGHTENED_DENIALS } from '../model/tightened.js';

export type { Strategy };
export { packageScript };

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
  /** A strategy of model/learn/strategies/ (each file says what it does), or `auto`: the first of its
   *  AUTO_ORDER that can run here. */
  strategy?: Strategy | 'auto';
  /** Shell commands run one after another once the app is ready, in every run (curl calls, a test
   *  suite pointed at the server), so that what the app needs to serve them is learned too. A command
   *  that fails is reported in `profile.exercise`. */
  exercise?: string[];
  /** After verification, try the app without each grant and keep only what it needs to start. */
  minimize?: boolean;
  /** Keep a grant whose only evidence is soft (a caught denial, a has() that said no, a lookup of a
   *  missing path) only if the app fails without it (default true; model/tighten.ts). False: today's
   *  loop, which grants what the app asked for (see `grantCaught`) without trying. */
  tighten?: boolean;
  /** Grant what the app was denied and got by without (default true); false only reports it, and
   *  implies `minimize` (the first run of audit and observe cannot tell the two apart). */
  grantCaught?: boolean;
  /** Work out which grants only start-up uses, to drop() once the app is ready (Node 24+), and verify it. */
  dropPlan?: boolean;
  /** How far a grant may reach beyond the file that asked for it (default `deps`, see model/generalise.ts). */
  granularity?: Granularity;
  /** The project root: no grant is widened to it or above it (default: the nearest folder with a
   *  package.json above the entry). */
  root?: string;
  /** Grants the user accepted although they break the breadth rule (absolute values as Node is given
   *  them: `/`, `/home/me/*`); nothing else can put such a grant in a profile. */
  acceptBroad?: string[];
  /** Complain-mode records (model/records.ts): the first run's evidence is what they saw, planned by
   *  the learn loop exactly as an audit run's; enforce runs then confirm and verify, as always. */
  records?: MergedRecords;
  onEvent?: (event: LearnEvent) => void;
  /** Called once the Node version is known, before the first run. */
  onStart?: (caps: Capabilities) => void;
  /** Leave what the last run created or changed in place (by default every change is put back). */
  keepOutputs?: boolean;
}

export interface LearnAppResult {
  profile: Profile;
  result: LearnResult;
  caps: Capabilities;
}

export const DEFAULTS = { maxRuns: 300, maxRunMs: 60_000, graceMs: 3_000, settleMs: 300 };

/** How long a ready app is watched in a --minimize trial before the grant it lacks counts as unneeded. */
const MINIMIZE_SETTLE_MS = 1_000;

export async function learnApp(options: LearnAppOptions): Promise<LearnAppResult> {
  const cwd = resolveCwd(options.cwd);
  const entry = path.resolve(cwd, options.entry);
  if (!existsSync(entry)) throw new PermlearnError('usage', `entry file ${entry} does not exist`);
  if (realFs.kind(entry) === 'dir') throw new PermlearnError('usage', `entry ${entry} is a directory; give the file node should run`);
  const findPackage = packageFinder();
  return learnTarget({ entry, args: options.args ?? [], cwd, appRoot: entryProjectRoot(entry, cwd, findPackage), findPackage }, options);
}

export interface LearnCommandOptions extends Omit<LearnAppOptions, 'entry' | 'args'> {
  /** The command as argv (`['npm', 'start']`, `['node', '--import', 'tsx', 'src/server.ts']`). */
  command: string[];
}

/**
 * `permlearn run -- <command...>`: learn what every Node process a command starts needs. The flags and
 * the recorder travel in NODE_OPTIONS; `npm|pnpm|yarn start|test|run <script>` runs the script itself
 * (as the package manager would, with node_modules/.bin on PATH) and `npx <tool>` the project's own
 * bin, so the package manager stays out of the profile.
 */
export async function learnCommand(options: LearnCommandOptions): Promise<LearnAppResult> {
  if (options.command.length === 0) throw new PermlearnError('usage', 'permlearn run needs a command after --');
  const cwd = resolveCwd(options.cwd);
  const findPackage = packageFinder();
  const appRoot = packageRoot(cwd, findPackage) ?? cwd;
  const command = packageScript(options.command, appRoot) ?? options.command;
  return learnTarget({ entry: '', args: [], command, given: options.command, cwd, appRoot, findPackage }, options);
}

function resolveCwd(given: string | undefined): string {
  const cwd = path.resolve(given ?? process.cwd());
  if (!existsSync(cwd)) throw new PermlearnError('usage', `--cwd ${cwd} does not exist`);
  if (realFs.kind(cwd) !== 'dir') throw new PermlearnError('usage', `--cwd ${cwd} is not a directory`);
  return cwd;
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
  phase('learn starts');
  const caps = await probeNode(node);
  phase('node version known');
  const readiness = options.readiness ?? {};
  if (readiness.port !== undefined && (await portAccepting(readiness.port))) {
    throw new PermlearnError('usage', `port ${readiness.port} already accepts connections before the app starts; --ready-port would be meaningless`);
  }
  const requested = options.strategy ?? 'auto';
  const root = options.root === undefined ? appRoot : path.resolve(cwd, options.root);
  // The observe run's wide grant must itself respect the limits on how far a grant may reach.
  const rootTooBroad = breadthViolation({ scope: 'fs.read', path: appRoot, kind: 'dir' }, { homedir: realFs.homedir, tmpdir: os.tmpdir() })?.reason;
  const strategyEnv = { caps, root: appRoot, rootTooBroad };
  // From records the audit run is the recorded traffic: no audit mode needed.
  const unavailable =
    requested === 'auto' || (requested === 'audit' && options.records) ? undefined : LEARN_STRATEGY_ENTRIES[requested].unavailable(strategyEnv);
  if (unavailable) throw new PermlearnError('usage', `--strategy ${requested} ${unavailable}`);
  if (realFs.kind(root) !== 'dir') throw new PermlearnError('usage', `--root ${root} is not a directory`);
  const granularity = options.granularity ?? DEFAULT_GRANULARITY;
  const strategy: Strategy = options.records ? 'audit' : requested === 'auto' ? autoStrategy(strategyEnv) : requested;
  options.onStart?.(caps);
  // The app's Node (probed above) starts faster than 20 when it is 22+: the watchdog, started with the session, runs on it.
  if (caps.version.major >= 22 && process.release?.name === 'node' && Number(process.versions.node.split('.')[0]) < 22) useWatchdogNode(node);
  const session = createSession();
  phase('session ready');
  // What learning does to the machine is undone: each run starts from the state recorded here.
  const clean = new CleanState({ sessionDir: session.dir });
  let machine: ReturnType<CleanState['finish']> | undefined;
  const finish = () => (machine ??= clean.finish(options.keepOutputs === true));
  const forget = onAbort(() => {
    finish();
    session.dispose();
  });
  for (const area of initialAreas(root, cwd, realFs.homedir)) clean.capture(area);
  phase('clean state captured');
  // The user's environment, less what permlearn's own launcher added (pnpm's NODE_PATH, npx's npm_*).
  const installation = permlearnInstallation(appRoot);
  const appEnv = appEnvironment(options.env ?? process.env, appRoot, installation);
  const tmpdir = os.tmpdir();
  const catches = createCatchProbe();
  const fsProbe = {
    ...realFs,
    initialKind: (p: string) => clean.initialKind(p) ?? realFs.kind(p),
    guarded: catches.guarded,
    catchStops: catches.stops,
    uncaught: catches.uncaught,
  };
  const cleanly = async (grants: readonly Grant[], go: () => Promise<Run>): Promise<Run> => {
    const writes = grants.filter((g) => g.scope === 'fs.write');
    phase('run planned');
    clean.beforeRun(writes);
    phase('run starts');
    const r = await go();
    phase(`run ended (${r.outcome}, ${r.durationMs} ms)`);
    clean.afterRun(
      writes,
      r.denials
        .filter((d) => d.permission === 'FileSystemWrite' && d.resource !== '')
        .map((d) => ({ path: resourcePath(d), ...(d.existed !== undefined ? { existed: d.existed } : {}) })),
    );
    phase('clean state restored after the run');
    return r;
  };
  // What was wrong with the runs' evidence (forged lines, a channel over its limit), summed over runs.
  let evidence = NO_EVIDENCE_PROBLEMS;
  // Who asked for each grant depends on the denial's call site alone (attributeDenial reads only the
  // package.json files above it): the sites the runs showed are attributed while the verification run runs
  // (the app uses one core), and the profile takes them from here.
  const sites = new Set<string>();
  const attributions = new Map<string, Attribution | undefined>();
  const attributionAt = (site: string) => {
    if (!attributions.has(site)) attributions.set(site, attributeDenial({ site } as Denial, appRoot, findPackage));
    return attributions.get(site);
  };
  const noteEvidence = (r: RunResult): RunResult => {
    evidence = addCounts(evidence, r.evidence);
    for (const d of r.denials) if (d.site) sites.add(d.site);
    return r;
  };
  /** Attribute the sites seen so far a few at a time, between the event loop's turns, until `run` settles. */
  const attributeDuring = (run: Promise<unknown>): void => {
    let over = false;
    void run.finally(() => (over = true));
    const pending = [...sites].filter((s) => !attributions.has(s));
    const step = () => {
      for (let n = 0; n < 50 && pending.length && !over; n++) attributionAt(pending.pop()!);
      if (pending.length && !over) setImmediate(step);
    };
    setImmediate(step);
  };
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
      env: appEnv.env,
      ...(target.command ? { command: target.command } : {}),
    };
    // Node grants the entry as given on 22+ (not through a symlink): it joins the prefix-quirk checks.
    const implicit = caps.autoGrantsEntry && entry ? [entry] : [];
    // Set once a Node child is found to have lost the flags given on the command line (child-flags.ts).
    let viaNodeOptions = false;
    const result = await learn({
      caps,
      fs: fsProbe,
      maxRuns: options.maxRuns ?? DEFAULTS.maxRuns,
      implicitReadGrants: implicit,
      strategy: learnStrategy(strategy, { root: appRoot }),
      generalise: { granularity, root, tmpdir, requests: requestPaths([...(options.exercise ?? []), ...(readiness.url ? [readiness.url] : [])]) },
      volatile: {
        tmpdir,
        ...(appEnv.env.NODE_COMPILE_CACHE ? { compileCacheDirs: [path.resolve(cwd, appEnv.env.NODE_COMPILE_CACHE)] } : {}),
        known: [...new Set([root, appRoot, cwd, tmpdir, realFs.homedir, ...(entry ? [path.dirname(entry)] : [])])],
        permlearnOwn: (p) =>
          insideInstallation(p, installation) ?? (isSameOrUnder(p, session.dir) ? `in permlearn's session folder ${session.dir}` : undefined),
      },
      // Audit and observe runs cannot tell what the app got by without from what it needs: leaving
      // those out takes trying without each grant, which is what --minimize does.
      // Tight (the default) leaves them out by trying without them, in groups.
      tighten: options.tighten !== false,
      fold: true,
      minimize: options.minimize === true || options.grantCaught === false,
      grantCaught: options.grantCaught !== false,
      ...(options.acceptBroad?.length ? { acceptBroad: options.acceptBroad } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      runApp: async (request) => noteEvidence(await cleanly([...request.grants, ...(request.extraGrants ?? [])], () => runPhase(request))),
      // A command's Node processes already get everything through NODE_OPTIONS.
      deliverViaNodeOptions: () => {
        if (viaNodeOptions || target.given) return false;
        viaNodeOptions = true;
        return true;
      },
    });
    function runPhase({ phase, grants, extraGrants }: Parameters<Parameters<typeof learn>[0]['runApp']>[0]): Promise<RunResult> {
      const flags = renderFlags([...grants, ...(extraGrants ?? [])], caps);
      // Never a file: a read grant only a child that lost the command line's flags goes without.
      const canary = path.join(session.dir, 'child-canary');
      const runApp = viaNodeOptions ? (s: AppSpec, r: Parameters<typeof runAppOnce>[1]) => runAppOnce(s, { ...r, viaNodeOptions: true }) : runAppOnce;
      // From records: the audit run is the recorded traffic, not a run of the app.
      if (phase === 'audit' && options.records) return Promise.resolve(recordedRun(options.records, implicit));
      // Audit mode replaces the enable flag; grants given with it are simply not reported.
      if (phase === 'audit') flags[0] = '--permission-audit';
      if (phase === 'verify') {
        const run = runApp(spec, { flags });
        attributeDuring(run);
        return run;
      }
      if (phase === 'observe') {
        // Without in-thread module hooks, ES module loads are watched from a hooks thread (--import).
        const esm = caps.inThreadModuleHooks ? {} : { imports: [session.esmRegisterPath], preloadReads: session.esmReadPaths };
        return runApp(spec, { flags, recorderPath: session.observerPath, eventsDir: session.eventsDir, keys: session.keys, canary, ...esm });
      }
      // A grant taken away may fail the app a moment after readiness: minimize trials watch longer.
      const watched = phase === 'minimize' || phase === 'tighten' ? { ...spec, settleMs: Math.max(spec.settleMs, MINIMIZE_SETTLE_MS) } : spec;
      return runApp(watched, { flags, recorderPath: session.recorderPath, eventsDir: session.eventsDir, keys: session.keys, canary });
    }
    phase('learn loop done');
    const timeProfile = () => phase('profile: grants attributed');
    // Say who asked for each grant: a dependency (name@version) or the app's own file.
    const attribute = (d: Denial) => {
      const a = d.site ? attributionAt(d.site) : undefined;
      if (a) Object.assign(d, a);
    };
    for (const g of result.grants) g.denials.forEach(attribute);
    result.observed.forEach(attribute);
    for (const u of result.ungrantable) attribute(u.denial);
    for (const r of result.refused) attribute(r.denial);
    for (const g of result.tightened?.removed ?? []) g.denials.slice(0, TIGHTENED_DENIALS).forEach(attribute);
    timeProfile();
    const profile = buildProfile(result, {
      caps,
      entry: target.given?.join(' ') ?? entry,
      args: spec.args,
      cwd,
      strategy,
      root,
      granularity,
      exposure: (p, k) => exposureOf(p, k, root),
      tmpdir,
    });
    if (target.given) profile.command = target.given;
    if (options.dropPlan) {
      // Drop-plan runs: from the initial state, without the canary of the learn runs, and with the flags
      // delivered as the profile will be run (in NODE_OPTIONS when a Node child of the app needs them there).
      const delivery = profile.delivery === 'node-options' ? { viaNodeOptions: true } : {};
      const runDrops = (request: RunRequest): Promise<RunResult> =>
        cleanly(request.grants, () =>
          request.phase === 'drop-timing'
            ? runAppOnce(spec, {
                flags: ['--permission-audit'],
                recorderPath: session.recorderPath,
                eventsDir: session.eventsDir,
                keys: session.keys,
                ...delivery,
              })
            : runAppOnce(spec, {
                ...delivery,
                flags: renderFlags(request.grants, caps),
                recorderPath: session.dropperPath,
                eventsDir: session.eventsDir,
                keys: session.keys,
                drops: request.drops ?? [],
                dropFile: session.dropFile,
              }),
        );
      const { runs, ...plan } = await learnDropPlan({
        caps,
        runApp: runDrops,
        hasReadiness: !!readiness.stdout || readiness.port !== undefined || !!readiness.url || readiness.aliveAfterMs !== undefined,
        dropFile: session.dropFile,
        firstRun: result.runs,
        grants: normaliseGrants(result.grants),
        verified: result.status === 'verified',
        exercised: (options.exercise?.length ?? 0) > 0,
        onEvent: options.onEvent,
      });
      profile.dropPlan = plan;
      profile.runs += runs;
    }
    profile.warnings.push(...evidenceNotes(evidence));
    if (options.records) addRecords(profile, options.records, caps);
    if (options.exercise?.length) {
      profile.exercise = { commands: options.exercise, results: result.last?.exercise ?? [] };
    } else if (readiness.stdout || readiness.port !== undefined || readiness.url || readiness.aliveAfterMs !== undefined) {
      profile.warnings.push('learned from start-up alone: what the app needs to serve requests was not seen (pass --exercise with commands that use it)');
    }
    if (result.setAside?.length) profile.setAside = result.setAside.map(({ denial: _, ...s }) => s);
    if (appEnv.removed.length) profile.environment = { removed: appEnv.removed };
    profile.machine = finish();
    phase('profile built, clean state restored');
    return { profile, result, caps };
  } finally {
    forget();
    finish();
    session.dispose();
    phase('session removed');
  }
}

/** The recorded traffic as the result of an audit run: every check the records saw, as Node published it. */
function recordedRun(records: MergedRecords, implicitReads: readonly string[]): RunResult {
  // Reads Node grants without a flag (the entry on 22+; a JS-level record sees the loader read it) need none.
  const denials = recordDenials(records).filter((d) => !(d.permission === 'FileSystemRead' && implicitReads.includes(d.resource)));
  return { outcome: 'exited', exitCode: 0, denials, recorderLoaded: true, stderrDenials: [], stderrTail: '', durationMs: 0 };
}

/** Say where a profile's evidence came from: how many records, when, and in how many each grant was seen. */
function addRecords(profile: Profile, records: MergedRecords, caps: Capabilities): void {
  const uniq = (xs: string[]) => [...new Set(xs)];
  profile.records = {
    files: records.files.length,
    ...(records.first !== undefined ? { first: records.first } : {}),
    ...(records.last !== undefined ? { last: records.last } : {}),
    modes: uniq(records.files.map((f) => f.mode)),
    nodes: uniq(records.files.map((f) => f.node)),
    cutOff: records.files.filter((f) => !f.final).length,
    unseen: records.unseen,
  };
  const dropped = records.dropped.reduce((n, d) => n + d.count, 0);
  const counts = { dropped, rejected: records.rejected.length, forged: records.forged, unchecked: records.unchecked, duplicates: records.duplicates };
  for (const [k, n] of Object.entries(counts)) if (n > 0) Object.assign(profile.records, { [k]: n });
  for (const g of profile.grants) Object.assign(g, { seen: seenInRecords(g, records, caps) });
  if (records.unseen.length) profile.warnings.push(`the records could not see everything: ${records.unseen.join('; ')}`);
  profile.warnings.push(...recordsCaveats(records));
}
