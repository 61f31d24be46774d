// What to run, from a config file (if any) and the command line: flags override the file, the file
// overrides the defaults. Paths from the command line are relative to the current folder, paths in a
// config to the config's folder. Then learning one plan with core (learnApp or learnCommand), and finding
// the configs a command applies to.
import path from 'node:path';
import {
  DEFAULT_PROFILE_FILE,
  DEFAULTS,
  PermlearnError,
  findConfigIn,
  findWorkspaceConfigs,
  learnApp,
  learnCommand,
  readConfigFile,
  type Capabilities,
  type FoundConfig,
  type Granularity,
  type LearnAppResult,
  type LearnEvent,
  type Readiness,
  type MergedRecords,
} from '@permlearn/core';
import type { AppOverrides, CaughtPolicy, Format, OutputOverrides, StrategyChoice } from './options.js';
import { shortPath } from './paths.js';

/** One app to learn or check, every option settled. */
export interface AppPlan {
  /** For summaries: the config's name or folder, else the entry's file name. */
  name: string;
  /** The config file it came from, if any. */
  configFile?: string;
  /** Absolute; absent for a command. */
  entry?: string;
  args: string[];
  command?: string[];
  cwd: string;
  node?: string;
  readiness: Readiness;
  exercise: string[];
  maxRuns: number;
  maxRunMs: number;
  graceMs: number;
  strategy: StrategyChoice;
  /** Undefined: core's default (or, for check, the committed profile's). */
  granularity?: Granularity;
  root?: string;
  minimize: boolean;
  tighten: boolean;
  caught: CaughtPolicy;
  /** Grants accepted beyond the breadth rule (absolute, as Node is given them). */
  acceptBroad: string[];
  /** Leave the last run's outputs in place (--keep-outputs). */
  keepOutputs?: boolean;
  /** The committed profile (absolute): check compares with it, workspace learning writes it. */
  profile: string;
  format: Format;
  relative: boolean;
  out?: string;
  /** Complain-mode records to build the profile from (the learn command's --records). */
  records?: MergedRecords;
}

/** Settle one plan. `found` is the config (or none); `o` the command line. */
export function planApp(found: FoundConfig | undefined, o: AppOverrides, out: OutputOverrides = {}): AppPlan {
  const c = found?.config;
  const here = (p: string) => path.resolve(p);
  const cwd = o.cwd !== undefined ? here(o.cwd) : (c?.cwd ?? process.cwd());
  let readiness: Readiness = {};
  if (o.readiness) readiness = o.readiness;
  else if (c?.readiness) {
    if (c.readiness.stdout !== undefined) readiness.stdout = new RegExp(c.readiness.stdout);
    if (c.readiness.port !== undefined) readiness.port = c.readiness.port;
    if (c.readiness.url !== undefined) readiness.url = c.readiness.url;
    if (c.readiness.timeout !== undefined) readiness.aliveAfterMs = c.readiness.timeout * 1000;
  }
  // An entry on the command line replaces the config's app (its command too), and brings its own arguments.
  const entry = o.entry !== undefined ? here(o.entry) : o.command ? undefined : c?.entry;
  const command = o.command ?? (o.entry !== undefined ? undefined : c?.command);
  const args = o.entry !== undefined || o.appArgs ? (o.appArgs ?? []) : (c?.args ?? []);
  let maxRunMs = o.maxRunMs ?? (c?.maxRunTime !== undefined ? c.maxRunTime * 1000 : DEFAULTS.maxRunMs);
  if (readiness.aliveAfterMs !== undefined && readiness.aliveAfterMs >= maxRunMs) maxRunMs = readiness.aliveAfterMs + 10_000;
  const plan: AppPlan = {
    name: c?.name ?? (entry ? path.basename(entry) : command ? command.join(' ') : path.basename(cwd)),
    args,
    cwd,
    readiness,
    exercise: o.exercise ?? c?.exercise ?? [],
    maxRuns: o.maxRuns ?? c?.maxRuns ?? DEFAULTS.maxRuns,
    maxRunMs,
    graceMs: o.graceMs ?? (c?.grace !== undefined ? c.grace * 1000 : DEFAULTS.graceMs),
    strategy: o.strategy ?? c?.strategy ?? 'auto',
    minimize: o.minimize ?? c?.minimize ?? false,
    tighten: o.tighten ?? c?.tighten ?? true,
    caught: o.caught ?? c?.caught ?? 'grant',
    acceptBroad: (o.acceptBroad ?? c?.acceptBroad ?? []).map((v) => resolveGrantValue(v, o.acceptBroad ? process.cwd() : (c?.dir ?? cwd))),
    ...(o.keepOutputs ? { keepOutputs: true } : {}),
    profile: c?.profile ?? path.join(cwd, DEFAULT_PROFILE_FILE),
    format: out.format ?? c?.format ?? 'flags',
    relative: out.relative ?? c?.relative ?? false,
  };
  if (found) plan.configFile = found.file;
  if (entry !== undefined) plan.entry = entry;
  if (command !== undefined) plan.command = command;
  const node = o.node !== undefined ? o.node : c?.node;
  if (node !== undefined) plan.node = node;
  const granularity = o.granularity ?? c?.granularity;
  if (granularity !== undefined) plan.granularity = granularity;
  const root = o.root !== undefined ? here(o.root) : c?.root;
  if (root !== undefined) plan.root = root;
  const outFile = out.out !== undefined ? here(out.out) : c?.out;
  if (outFile !== undefined) plan.out = outFile;
  return plan;
}

/** A grant value as the user typed it (`./logs/*`, `/`), made absolute without losing a trailing `/*` or `*`. */
export function resolveGrantValue(value: string, from: string): string {
  return path.isAbsolute(value) ? value : path.join(from, value);
}

export interface LearnHooks {
  onStart?: (caps: Capabilities) => void;
  onEvent?: (e: LearnEvent) => void;
}

/** Learn one plan with core: `learnCommand` for a command, `learnApp` for an entry. */
export function learnPlan(plan: AppPlan, hooks: LearnHooks = {}): Promise<LearnAppResult> {
  const common = {
    cwd: plan.cwd,
    ...(plan.node !== undefined ? { node: plan.node } : {}),
    readiness: plan.readiness,
    strategy: plan.strategy,
    ...(plan.granularity !== undefined ? { granularity: plan.granularity } : {}),
    minimize: plan.minimize,
    tighten: plan.tighten,
    grantCaught: plan.caught === 'grant',
    ...(plan.acceptBroad.length ? { acceptBroad: plan.acceptBroad } : {}),
    ...(plan.keepOutputs ? { keepOutputs: true } : {}),
    // A drop plan is learned only when it is the output asked for (it costs runs).
    ...(plan.format === 'drop-plan' ? { dropPlan: true } : {}),
    ...(plan.root !== undefined ? { root: plan.root } : {}),
    ...(plan.exercise.length ? { exercise: plan.exercise } : {}),
    maxRuns: plan.maxRuns,
    maxRunMs: plan.maxRunMs,
    graceMs: plan.graceMs,
    ...(plan.records ? { records: plan.records } : {}),
    ...(hooks.onStart ? { onStart: hooks.onStart } : {}),
    ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}),
  };
  if (plan.command) return learnCommand({ command: plan.command, ...common });
  if (plan.entry === undefined)
    throw new PermlearnError('usage', 'nothing to learn: give an <entry>, a command after `permlearn run --`, or a config with "entry" or "command"');
  return learnApp({ entry: plan.entry, args: plan.args, ...common });
}

/** What `--config`, `--workspace` or the current folder name, as found configs (none: the command line alone). */
export async function configsFor(configs: string[], workspace: boolean): Promise<FoundConfig[]> {
  const name = (f: string) => shortPath(f);
  if (workspace) {
    if (configs.length) throw new PermlearnError('usage', 'give either --workspace or config files, not both');
    const found = await findWorkspaceConfigs(process.cwd(), name);
    if (found.length === 0)
      throw new PermlearnError(
        'usage',
        `--workspace: no package under ${process.cwd()} has a permlearn.config.json or a "permlearn" field in its package.json`,
      );
    return found;
  }
  if (configs.length) return configs.map((f) => readConfigFile(f, name(path.resolve(f))));
  const here = findConfigIn(process.cwd(), name);
  return here ? [here] : [];
}
