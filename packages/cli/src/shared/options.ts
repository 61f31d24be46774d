// Command-line parsing (yargs). Turns argv into options or a usage error; does nothing else. Options a
// config file may also set are kept only when given, so that flags override the file (plan.ts).
import { createRequire } from 'node:module';
import yargs, { type Argv } from 'yargs';
import { CAUGHT_POLICIES, DEFAULTS, closestMatch, GRANULARITIES, NUMBER_RANGES, PermlearnError, describeRange, inRange, type NumberRange, RENDER_FORMATS, STRATEGIES, type Granularity, type Readiness, type RenderFormat } from '@permlearn/core';

export type CaughtPolicy = (typeof CAUGHT_POLICIES)[number];

export type Format = RenderFormat;
export type StrategyChoice = (typeof STRATEGIES)[number];

/** What the command line says about running the app; each field only when given. */
export interface AppOverrides {
  entry?: string;
  appArgs?: string[];
  command?: string[];
  node?: string;
  cwd?: string;
  /** Replaces the config's readiness as a whole when any --ready-* or --timeout is given. */
  readiness?: Readiness;
  exercise?: string[];
  maxRuns?: number;
  maxRunMs?: number;
  graceMs?: number;
  strategy?: StrategyChoice;
  granularity?: Granularity;
  root?: string;
  minimize?: boolean;
  tighten?: boolean;
  caught?: CaughtPolicy;
  /** `--accept-broad`: grants (as Node is given them) the user accepts beyond the breadth rule. */
  acceptBroad?: string[];
  keepOutputs?: boolean;
}

/** What the command line says about the output; each field only when given. */
export interface OutputOverrides {
  format?: Format;
  relative?: boolean;
  out?: string;
}

export interface LearnArgs {
  app: AppOverrides;
  output: OutputOverrides;
  /** Config files named on the command line (`--config`, or positional `*.json`). */
  configs: string[];
  /** Learn every package under the cwd that has a permlearn config. */
  workspace: boolean;
  concurrency?: number;
  force: boolean;
  quiet: boolean;
  /** `permlearn run`: the app is a command. */
  run: boolean;
  /** `--records`: complain-mode record files or folders to build the profile from. */
  records?: string[];
}

export interface RecordArgs {
  command: string[];
  out: string;
  cwd?: string;
  node?: string;
  /** `--profile`: enforce this profile and record what it denies. */
  profile?: string;
  intervalMs?: number;
}

export interface CheckArgs {
  app: AppOverrides;
  configs: string[];
  workspace: boolean;
  concurrency?: number;
  profile?: string;
  strict: boolean;
  suggest?: string;
  write: boolean;
  /** Let --suggest replace an existing file, and --write replace a profile that changed while checking. */
  force: boolean;
  json: boolean;
  quiet: boolean;
  /** `--records`: compare the committed profile with these recordings instead of learning again. */
  records?: string[];
}

export interface MergeArgs {
  profiles: string[];
  app: AppOverrides;
  output: OutputOverrides;
  configs: string[];
  force: boolean;
  quiet: boolean;
}

export interface RenderArgs {
  profile: string;
  format: Format;
  /** `--node-version`: a version to render for without a binary. */
  nodeVersion?: string;
  /** `--node`: a binary whose version to render for. */
  node?: string;
  relative: boolean;
  cwd?: string;
  root?: string;
  out?: string;
  force: boolean;
  quiet: boolean;
  acceptBroad?: string[];
}

export type Parsed =
  | { kind: 'learn'; args: LearnArgs }
  | { kind: 'check'; args: CheckArgs }
  | { kind: 'merge'; args: MergeArgs }
  | { kind: 'render'; args: RenderArgs }
  | { kind: 'explain'; profile: string }
  | { kind: 'record'; args: RecordArgs }
  | { kind: 'done'; output: string };

const FORMAT_HELP = 'flags: one shell-quoted line; args: one flag per line; json: the profile; node-options: a NODE_OPTIONS value; config: a node.config.json (Node 26); package-json: a "start" script; drop-plan: the flags and the process.permission.drop() calls for what only start-up uses (Node 24+)';

/** yargs' complaints, as one line. */
function failUsage(msg: string, err: Error | undefined): never {
  if (err instanceof PermlearnError) throw err;
  throw new PermlearnError('usage', (msg || err?.message || 'invalid arguments').replace(/\s*\n\s*/g, ' '));
}

/** A numeric option as typed (parsed as a string, so that the message can quote it), checked against its range. */
function numberOption(name: string, value: unknown, range: NumberRange): number {
  if (Array.isArray(value)) throw new PermlearnError('usage', `--${name} is given more than once`);
  const text = String(value).trim();
  const n = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!inRange(n, range)) throw new PermlearnError('usage', `--${name} must be ${describeRange(range)}, got '${String(value)}'`);
  return n;
}

/** Seconds as whole milliseconds, for timers. */
const msOf = (seconds: number) => Math.round(seconds * 1000);

/** permlearn's own version, from the package.json it was published with. */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The exit codes, for every command's --help (a test checks them against exit-codes.ts). */
export const EXIT_CODES_HELP: readonly (readonly [number, string])[] = [
  [0, 'learned and verified; check: the profile is up to date'],
  [1, 'internal error (a bug in permlearn)'],
  [2, 'usage error: a bad option or value, a missing file, --node not Node 20+, an existing --out'],
  [3, 'the app failed for a reason that is not a permission, or never became ready'],
  [4, 'no progress, or --max-runs reached'],
  [5, 'learned, but the run with exactly those flags failed'],
  [6, 'the app needs something no flag can grant'],
  [7, 'check: the app needs grants the committed profile lacks'],
  [8, 'the app needs a grant broader than any profile may hold (see --accept-broad)'],
  [9, 'a saved profile that cannot be used: not JSON, malformed, or inconsistent'],
  [10, 'the environment is unusable: no writable temporary folder, or an unsupported platform'],
  [130, 'interrupted; every process of the app was stopped'],
];

const EPILOGUE = `Exit codes:\n${EXIT_CODES_HELP.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`).join('\n')}\n\nDocumentation: https://github.com/permlearn/permlearn#readme`;

/** Titles of the option groups in --help, in the order they are shown. */
const GROUPS = {
  command: 'Checking:',
  ready: 'Readiness (a server; without these the app has started cleanly when it exits 0):',
  learn: 'Learning:',
  output: 'Output:',
  many: 'Several apps:',
  general: 'General:',
} as const;

function base<T>(parser: Argv<T>, name: string, usage: string, examples: readonly (readonly [string, string])[]) {
  let p = parser
    .scriptName(name)
    .usage(`Usage: ${usage.replace(/\n(?=\$0)/g, '\n       ')}`)
    .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': false })
    .strictOptions()
    .option('color', { type: 'boolean', describe: 'colour the report (default: when stderr is a terminal; NO_COLOR, FORCE_COLOR and TERM=dumb are honoured)' })
    .help('help', 'show this help')
    .alias('help', 'h')
    .version('version', 'show the version', VERSION)
    .alias('version', 'v');
  // Groups are shown in the order they are first named; the commands add their options to them.
  for (const title of Object.values(GROUPS)) p = p.group([], title);
  p = p
    .group(['help', 'version', 'color'], GROUPS.general)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue(EPILOGUE)
    .exitProcess(false)
    .fail(failUsage);
  for (const [command, text] of examples) p = p.example(command, text);
  return p;
}

/** How to run the app: the options the learn, check, run and merge commands share. */
function appOptions<T>(parser: Argv<T>) {
  return parser
    .option('config', { type: 'string', describe: 'a permlearn.config.json (or a package.json with a "permlearn" field); repeatable; default: the one in the current folder, if any' })
    .option('node', { type: 'string', describe: 'Node binary to run the app under (default: the one running permlearn)' })
    .option('cwd', { type: 'string', describe: "the app's working directory (default: the config's folder, else the current one)" })
    .option('ready-stdout', { type: 'string', describe: 'ready when a stdout line matches this regular expression' })
    .option('ready-port', { type: 'string', describe: 'ready when a TCP connect to this loopback port succeeds' })
    .option('ready-url', { type: 'string', describe: 'ready when an HTTP GET of this URL answers 2xx' })
    .option('timeout', { type: 'string', describe: 'ready when still running after this many seconds with no denial' })
    .option('exercise', { type: 'string', describe: 'a shell command to run once the app is ready (curl, a test suite against it), so that what the app needs to serve it is learned too; repeatable' })
    .option('max-runs', { type: 'string', defaultDescription: String(DEFAULTS.maxRuns), describe: 'stop learning after this many runs' })
    .option('max-run-time', { type: 'string', defaultDescription: String(DEFAULTS.maxRunMs / 1000), describe: 'seconds one run may take before it counts as hung' })
    .option('grace', { type: 'string', defaultDescription: String(DEFAULTS.graceMs / 1000), describe: 'seconds between SIGTERM and SIGKILL when stopping the app' })
    .option('strategy', { choices: STRATEGIES, defaultDescription: 'auto', describe: 'audit: one --permission-audit run first (Node 24+); observe: one run with the app root readable, keeping the modules it loaded; rerun: enforce runs only; auto: audit where Node has it, else observe' })
    .option('granularity', { choices: GRANULARITIES, defaultDescription: 'deps', describe: "how far a read grant may reach: file: exactly what was used; dir: each file's folder; package: a dependency's package folder; deps: the whole node_modules (the app's own files become their folders under every policy but file)" })
    .option('root', { type: 'string', describe: 'the project root: no grant is widened to it or above it (default: the nearest folder with a package.json above the entry)' })
    .option('minimize', { type: 'boolean', describe: 'after learning, try the app without each grant (and each widened grant narrowed back) and keep only what it needs to start' })
    .option('tighten', { type: 'boolean', defaultDescription: 'true', describe: 'keep a grant that only a caught denial, a has() check or a lookup of a missing path asked for only if the app fails without it (tried in groups); --no-tighten grants them without trying (fewer runs)' })
    .option('caught', { choices: CAUGHT_POLICIES, defaultDescription: 'grant', describe: 'denials the app got by without (it caught them, or has() said no): grant them (the app asked for them) or only report them' })
    .option('accept-broad', { type: 'string', describe: "a grant broader than permlearn allows on its own (/, a top-level folder, the home folder, above the project, a '*' in a name), accepted as is, exactly as the refusal names it; repeatable" })
    .option('keep-outputs', { type: 'boolean', describe: "leave what the app's last learning run created or changed in place (by default learning puts the project, $TMPDIR and the home folder back as they were)" })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no report on stderr; errors are still shown' })
    .group(['ready-stdout', 'ready-port', 'ready-url', 'timeout', 'exercise'], GROUPS.ready)
    .group(['node', 'cwd', 'root', 'strategy', 'granularity', 'minimize', 'tighten', 'caught', 'accept-broad', 'keep-outputs', 'max-runs', 'max-run-time', 'grace'], GROUPS.learn)
    .group(['quiet'], GROUPS.output)
    .group(['config'], GROUPS.many);
}

function outputOptions<T>(parser: Argv<T>) {
  return parser
    .option('format', { choices: RENDER_FORMATS, defaultDescription: 'flags', describe: `what to print on stdout (${FORMAT_HELP})` })
    .option('relative', { type: 'boolean', describe: "file-system paths relative to the app's cwd (./x), so the result works in another checkout" })
    .option('out', { type: 'string', describe: 'write the result to this file (atomically) instead of stdout' })
    .option('force', { type: 'boolean', default: false, describe: 'let --out (or a profile file) overwrite an existing file' })
    .group(['format', 'relative', 'out', 'force'], GROUPS.output);
}

function manyOptions<T>(parser: Argv<T>) {
  return parser
    .option('workspace', { type: 'boolean', default: false, describe: 'every package under the current folder with a permlearn config, in parallel' })
    .option('concurrency', { type: 'string', describe: 'how many apps to learn at once with --workspace or several configs (default: half the CPUs)' })
    .group(['workspace', 'concurrency'], GROUPS.many);
}

type Raw = Record<string, unknown> & { _: (string | number)[]; '--'?: (string | number)[] };

function readinessOf(a: Raw): Readiness | undefined {
  const given = ['ready-stdout', 'ready-port', 'ready-url', 'timeout'].some((k) => a[k] !== undefined);
  if (!given) return undefined;
  const readiness: Readiness = {};
  if (a['ready-stdout'] !== undefined) {
    try {
      readiness.stdout = new RegExp(String(a['ready-stdout']));
    } catch (err) {
      throw new PermlearnError('usage', `--ready-stdout is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (a['ready-port'] !== undefined) {
    readiness.port = numberOption('ready-port', a['ready-port'], NUMBER_RANGES.port);
  }
  if (a['ready-url'] !== undefined) {
    let url: URL;
    try {
      url = new URL(String(a['ready-url']));
    } catch {
      throw new PermlearnError('usage', `--ready-url is not a URL: '${String(a['ready-url'])}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PermlearnError('usage', '--ready-url must be an http: or https: URL');
    readiness.url = url.href;
  }
  if (a.timeout !== undefined) readiness.aliveAfterMs = msOf(numberOption('timeout', a.timeout, NUMBER_RANGES.timeout));
  return readiness;
}

function appOverrides(a: Raw): AppOverrides {
  const o: AppOverrides = {};
  if (a.node !== undefined) o.node = String(a.node);
  if (a.cwd !== undefined) o.cwd = String(a.cwd);
  const readiness = readinessOf(a);
  if (readiness) o.readiness = readiness;
  if (a.exercise !== undefined) {
    const list = listOf(a.exercise);
    if (list.some((c) => c.trim() === '')) throw new PermlearnError('usage', '--exercise needs a command');
    o.exercise = list;
  }
  if (a['max-runs'] !== undefined) o.maxRuns = numberOption('max-runs', a['max-runs'], NUMBER_RANGES.maxRuns);
  if (a['max-run-time'] !== undefined) o.maxRunMs = msOf(numberOption('max-run-time', a['max-run-time'], NUMBER_RANGES.maxRunTime));
  if (a.grace !== undefined) o.graceMs = msOf(numberOption('grace', a.grace, NUMBER_RANGES.grace));
  if (a.strategy !== undefined) o.strategy = a.strategy as StrategyChoice;
  if (a.granularity !== undefined) o.granularity = a.granularity as Granularity;
  if (a.root !== undefined) o.root = String(a.root);
  if (a.minimize !== undefined) o.minimize = Boolean(a.minimize);
  if (a.tighten !== undefined) o.tighten = Boolean(a.tighten);
  if (a.caught !== undefined) o.caught = a.caught as CaughtPolicy;
  if (a['accept-broad'] !== undefined) o.acceptBroad = acceptBroadOf(a['accept-broad']);
  if (a['keep-outputs'] === true) o.keepOutputs = true;
  return o;
}

function acceptBroadOf(value: unknown): string[] {
  const list = listOf(value);
  if (list.some((v) => v.trim() === '')) throw new PermlearnError('usage', '--accept-broad needs the grant it accepts, as the refusal names it');
  return list;
}

function outputOverrides(a: Raw): OutputOverrides {
  const o: OutputOverrides = {};
  if (a.format !== undefined) o.format = a.format as Format;
  if (a.relative !== undefined) o.relative = Boolean(a.relative);
  if (a.out !== undefined) o.out = String(a.out);
  return o;
}

function concurrencyOf(a: Raw): number | undefined {
  if (a.concurrency === undefined) return undefined;
  return numberOption('concurrency', a.concurrency, NUMBER_RANGES.concurrency);
}

/** A repeatable option: absent, one value, or several. */
function listOf(value: unknown): string[] {
  return value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);
}

const isConfigFile = (p: string) => p.endsWith('.json');

/**
 * The first option on the command line that the parser does not know, as a usage error with the nearest
 * known option (`--ready-prot` → "did you mean --ready-port?"). Only what comes before `--` is looked at.
 */
export function unknownOptionError(parser: Argv<unknown>, argv: readonly string[]): PermlearnError | undefined {
  const opts = (parser as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  const names = new Set([...Object.keys(opts.key), ...Object.values(opts.alias).flat(), ...Object.keys(opts.alias)]);
  const long = [...names].filter((n) => n.length > 1 && !/[A-Z]/.test(n));
  const end = argv.indexOf('--');
  for (const token of end === -1 ? argv : argv.slice(0, end)) {
    const longOption = /^--([^=]+)/.exec(token)?.[1];
    if (longOption !== undefined) {
      if (names.has(longOption) || (longOption.startsWith('no-') && names.has(longOption.slice(3)))) continue;
      const hit = closestMatch(longOption.replace(/^no-/, ''), long);
      return new PermlearnError('usage', `unknown option --${longOption}${hit ? ` (did you mean --${longOption.startsWith('no-') && hit !== longOption.slice(3) ? `no-${hit}` : hit}?)` : ' (see --help)'}`);
    }
    const shortOptions = /^-([^-\d].*)$/.exec(token)?.[1];
    if (shortOptions !== undefined) {
      const unknown = [...shortOptions.split('=')[0]!].find((c) => !names.has(c));
      if (unknown !== undefined) return new PermlearnError('usage', `unknown option -${unknown} (see --help)`);
    }
  }
  return undefined;
}

async function parse(parser: Argv<unknown>, argv: string[]): Promise<{ a: Raw; help?: string }> {
  let output = '';
  let a: Raw;
  try {
    a = (await parser.parseAsync(argv, {}, (_err, _argv, text) => {
      output = text;
    })) as Raw;
  } catch (err) {
    if (err instanceof PermlearnError && /^Unknown argument/i.test(err.message)) throw unknownOptionError(parser, argv) ?? err;
    throw err;
  }
  return a.help || a.version ? { a, help: output } : { a };
}

const LEARN_USAGE = `$0 [options] [<entry> [-- <app args...>]]
$0 [options] --config <a.json> [--config <b.json> ...] | --workspace [--concurrency N]
$0 run [options] -- <command...>
$0 check [--profile permlearn.json] [--strict] [--suggest FILE] [--write] [--format json]
$0 merge <a.json> <b.json> ... [--entry <file>] [--out FILE]
$0 render <profile.json> [--format X] [--node-version V | --node <binary>] [--relative]
$0 explain <profile.json>

Learn the Node.js permission flags an app needs by running it under --permission. With a permlearn.config.json (or a "permlearn" field in package.json) in the current folder, no argument is needed. Each command has its own --help (permlearn check --help).`;

const LEARN_EXAMPLES = [
  ['$0 app.js', 'learn what app.js needs to run to the end; the flags go to stdout, the report to stderr'],
  ["$0 --ready-port 3000 --exercise 'curl -sf http://127.0.0.1:3000/' server.js -- 3000", 'a server: ready when port 3000 answers, then exercised with curl in every run'],
  ['node $($0 -q app.js) app.js', 'run the app with what was learned (use eval when a path holds a space or a *)'],
  ['$0 --format json --out permlearn.json', 'learn the app a permlearn.config.json here describes, and save the profile'],
  ['$0 run --ready-port 3000 -- npm start', 'learn every Node process a start command runs'],
  ['$0 --workspace', 'every package under this folder with a permlearn config, in parallel'],
] as const;

const RUN_EXAMPLES = [
  ['$0 --ready-port 3000 -- npm start', 'the start script, run directly (npm itself is not learned)'],
  ['$0 --ready-stdout listening -- node --import tsx src/server.ts', 'a TypeScript server, ready when it prints "listening"'],
] as const;

/** `permlearn [options] <entry>`, or `permlearn run [options] -- <command...>` when `run` is true. */
export async function parseArgs(argv: string[], { run = false } = {}): Promise<Parsed> {
  const usage = run ? '$0 [options] -- <command...>\n\nLearn what every Node process a command starts needs (npm start, node --import tsx src/server.ts, a test runner): the flags and the recorder travel in NODE_OPTIONS.' : LEARN_USAGE;
  const parser = manyOptions(outputOptions(appOptions(base(yargs(argv), run ? 'permlearn run' : 'permlearn', usage, run ? RUN_EXAMPLES : LEARN_EXAMPLES)))).option('records', { type: 'string', describe: 'build the profile from complain-mode records (files, or folders of record-*.ndjson from permlearn record); the entry (default: the one the records ran) is then run to verify it; repeatable' });
  const { a, help } = await parse(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const positional = a._.map(String);
  const dashdash = (a['--'] ?? []).map(String);
  const configs = listOf(a.config);
  const app = appOverrides(a);
  if (run) {
    const command = [...positional, ...dashdash];
    if (command.length) app.command = command;
  } else if (positional.length > 0 && positional.every(isConfigFile) && dashdash.length === 0) {
    configs.push(...positional);
  } else if (positional.length > 0) {
    const [entry, ...rest] = positional;
    app.entry = entry!;
    app.appArgs = [...rest, ...dashdash];
  } else if (dashdash.length > 0) {
    throw new PermlearnError('usage', `app arguments after -- need an <entry> before them (for a command, use: permlearn run -- ${dashdash.join(' ')})`);
  }
  const concurrency = concurrencyOf(a);
  const args: LearnArgs = { app, output: outputOverrides(a), configs, workspace: Boolean(a.workspace), force: Boolean(a.force), quiet: Boolean(a.quiet), run };
  if (concurrency !== undefined) args.concurrency = concurrency;
  if (a.records !== undefined) args.records = listOf(a.records);
  if (args.workspace && (app.entry || app.command)) throw new PermlearnError('usage', '--workspace learns every configured package; it takes no entry or command');
  return { kind: 'learn', args };
}

/** `permlearn check …` (argv without the word `check`). */
export async function parseCheckArgs(argv: string[]): Promise<Parsed> {
  const parser = manyOptions(
    appOptions(
      base(
        yargs(argv),
        'permlearn check',
        '$0 [options] [<entry> [-- <app args...>]]\n\nLearn the app again and compare with the committed profile: exit 0 when it still verifies and nothing new is needed, 7 when the app needs grants the profile lacks.',
        [
          ['$0', 'check the app a permlearn.config.json here describes against its permlearn.json'],
          ['$0 --suggest permlearn.suggested.json', 'in CI: also write the fresh profile, to keep as an artifact when the check fails'],
          ['$0 --write', 'accept what the app needs now: rewrite the committed profile'],
          ['$0 --workspace', 'check every configured package under this folder'],
        ],
      ),
    )
      .option('profile', { type: 'string', describe: 'the committed profile (default: the config\'s "profile", else permlearn.json)' })
      .option('strict', { type: 'boolean', default: false, describe: 'grants no longer used fail the check too' })
      .option('suggest', { type: 'string', describe: 'write the proposed profile (the fresh run) to this file' })
      .option('write', { type: 'boolean', default: false, describe: 'rewrite the committed profile with the proposed one when they differ' })
      .option('force', { type: 'boolean', default: false, describe: 'let --suggest overwrite an existing file (and --write a profile that changed while checking)' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: the comparison as JSON on stdout' })
      .option('records', { type: 'string', describe: 'compare the committed profile with complain-mode records instead of running the app: exit 7 for needs it lacks; repeatable' })
      .group(['profile', 'strict', 'suggest', 'write', 'force', 'format', 'records'], GROUPS.command),
  );
  const { a, help } = await parse(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const app = appOverrides(a);
  const positional = a._.map(String);
  const configs = listOf(a.config);
  if (positional.length > 0 && positional.every(isConfigFile) && !(a['--'] ?? []).length) configs.push(...positional);
  else if (positional.length > 0) {
    app.entry = positional[0]!;
    app.appArgs = [...positional.slice(1), ...(a['--'] ?? []).map(String)];
  }
  const args: CheckArgs = { app, configs, workspace: Boolean(a.workspace), strict: Boolean(a.strict), write: Boolean(a.write), force: Boolean(a.force), json: a.format === 'json', quiet: Boolean(a.quiet) };
  const concurrency = concurrencyOf(a);
  if (concurrency !== undefined) args.concurrency = concurrency;
  if (a.profile !== undefined) args.profile = String(a.profile);
  if (a.suggest !== undefined) args.suggest = String(a.suggest);
  if (a.records !== undefined) args.records = listOf(a.records);
  if ((args.workspace || configs.length > 1) && (args.profile || args.suggest)) {
    throw new PermlearnError('usage', '--profile and --suggest name one file: they go with one app, not --workspace or several configs');
  }
  return { kind: 'check', args };
}

/** `permlearn record [--out DIR] [--profile p.json] -- <command...>` (argv without the word `record`). */
export async function parseRecordArgs(argv: string[]): Promise<Parsed> {
  const parser = base(
    yargs(argv),
    'permlearn record',
    '$0 [--out DIR] [--profile permlearn.json] -- <command...>\n\nRun a service unchanged in complain mode: every Node process it starts records the checks it makes (Node 24+: --permission-audit; 20/22: its use of the JS API), one deduplicated file per process in DIR. Build a profile from them with permlearn --records DIR.',
    [
      ['$0 --out records -- node server.js', 'record a service in complain mode until it stops'],
      ['$0 --profile permlearn.json --out records -- npm start', 'enforce a profile and record what it denies'],
    ],
  )
    .option('out', { type: 'string', default: 'permlearn-records', describe: 'the folder the records go to (created 0700)' })
    .option('profile', { type: 'string', describe: 'enforce this profile and record what it denies, with who asked' })
    .option('node', { type: 'string', describe: 'the Node binary the command runs (default: the command when it is node, else node on PATH)' })
    .option('cwd', { type: 'string', describe: 'run the command in this folder' })
    .option('interval', { type: 'string', describe: 'seconds between writes of each record (default 10)' });
  const { a, help } = await parse(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const command = [...a._.map(String), ...(a['--'] ?? []).map(String)];
  if (command.length === 0) throw new PermlearnError('usage', 'missing <command>: permlearn record -- <command...>');
  const args: RecordArgs = { command, out: String(a.out) };
  if (a.profile !== undefined) args.profile = String(a.profile);
  if (a.node !== undefined) args.node = String(a.node);
  if (a.cwd !== undefined) args.cwd = String(a.cwd);
  if (a.interval !== undefined) args.intervalMs = msOf(numberOption('interval', a.interval, { min: 0.05, max: 3600, integer: false, unit: 'seconds' }));
  return { kind: 'record', args };
}

/** `permlearn merge a.json b.json …` (argv without the word `merge`). */
export async function parseMergeArgs(argv: string[]): Promise<Parsed> {
  const parser = outputOptions(
    appOptions(
      base(
        yargs(argv),
        'permlearn merge',
        '$0 <a.json> <b.json> ... [--entry <file> [-- <app args...>]] [--out FILE]\n\nOne profile from several (--format json profiles of the same app): the union of their grants, each saying in how many runs it was seen. With --entry or a config, the union is run once to verify it.',
        [
          ['$0 serve.json batch.json --out permlearn.json', 'the union of two runs of the same app'],
          ['$0 serve.json batch.json --entry app.js -- serve', 'the union, run once with exactly its flags to verify it'],
        ],
      ),
    )
      .option('entry', { type: 'string', describe: 'run the merged profile with this entry to verify it (a config does the same)' })
      .group(['entry'], GROUPS.learn),
  );
  const { a, help } = await parse(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const profiles = a._.map(String);
  if (profiles.length === 0) throw new PermlearnError('usage', 'missing profiles: permlearn merge <a.json> <b.json> ... (profiles saved with --format json)');
  const app = appOverrides(a);
  if (a.entry !== undefined) app.entry = String(a.entry);
  const dashdash = (a['--'] ?? []).map(String);
  if (dashdash.length) app.appArgs = dashdash;
  const configs = listOf(a.config);
  if (configs.length > 1) throw new PermlearnError('usage', 'permlearn merge verifies one app: give one --config');
  return { kind: 'merge', args: { profiles, app, output: outputOverrides(a), configs, force: Boolean(a.force), quiet: Boolean(a.quiet) } };
}

/** `permlearn render <profile.json> …` (argv without the word `render`). */
export async function parseRenderArgs(argv: string[]): Promise<Parsed> {
  const parser = base(
    yargs(argv),
    'permlearn render',
    '$0 <profile.json> [--format X] [--node-version V | --node <binary>] [--relative] [--cwd DIR] [--out FILE]\n\nRender a saved profile (--format json) for a Node version, directory and format, without running the app.',
    [
      ['$0 permlearn.json --node-version 22', 'the flags for Node 22 (--experimental-permission, no --allow-net)'],
      ['$0 permlearn.json --format package-json --relative', 'a "start" script with relative paths, for package.json'],
      ['$0 permlearn.json --cwd /srv/app --format node-options', 'a NODE_OPTIONS value for the checkout in /srv/app'],
    ],
  )
    .option('format', { choices: RENDER_FORMATS, default: 'flags' as Format, describe: FORMAT_HELP })
    .option('node-version', { type: 'string', describe: "render for this Node version (26, 22.13, v22.23.3; default: the profile's)" })
    .option('node', { type: 'string', describe: 'render for the version of this Node binary' })
    .option('relative', { type: 'boolean', default: false, describe: 'file-system paths relative to the cwd (./x), and ../x within the project' })
    .option('cwd', { type: 'string', describe: "the directory the app will run in (default: the profile's cwd); the project's paths move with it" })
    .option('root', { type: 'string', describe: 'the project that travels as a whole: --relative paths may climb to it (default: the nearest folder above the cwd with .git, else the cwd)' })
    .option('out', { type: 'string', describe: 'write the result to this file (atomically) instead of stdout' })
    .option('force', { type: 'boolean', default: false, describe: 'let --out overwrite an existing file' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings on stderr; errors are still shown' })
    .option('accept-broad', { type: 'string', describe: 'render a grant broader than permlearn allows (it was accepted when learned), exactly as the refusal names it; repeatable' })
    .conflicts('node-version', 'node')
    .group(['node-version', 'node', 'cwd', 'root', 'accept-broad'], 'Target:')
    .group(['format', 'relative', 'out', 'force', 'quiet'], GROUPS.output);
  const { a: raw, help } = await parse(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const a = raw as Raw & { format: Format; relative: boolean; force: boolean; quiet: boolean; 'node-version'?: string; node?: string; cwd?: string; root?: string; out?: string };
  const positional = a._.map(String);
  if (positional.length !== 1) {
    throw new PermlearnError('usage', positional.length === 0 ? 'missing <profile.json>: a profile saved with --format json (try render --help)' : `one profile at a time, got ${positional.length}`);
  }
  const args: RenderArgs = { profile: positional[0]!, format: a.format, relative: a.relative, force: a.force, quiet: a.quiet };
  if (a['node-version'] !== undefined) args.nodeVersion = a['node-version'];
  if (a.node !== undefined) args.node = a.node;
  if (a.cwd !== undefined) args.cwd = a.cwd;
  if (a.root !== undefined) args.root = a.root;
  if (a.out !== undefined) args.out = a.out;
  if (a['accept-broad'] !== undefined) args.acceptBroad = acceptBroadOf(a['accept-broad']);
  return { kind: 'render', args };
}

/** `permlearn explain <profile.json>` (argv without the word `explain`). */
export async function parseExplainArgs(argv: string[]): Promise<Parsed> {
  const parser = base(
    yargs(argv),
    'permlearn explain',
    '$0 <profile.json>\n\nEvery grant of a saved profile (--format json) with the denials behind it and who asked: the app (its file and line) or a dependency (name@version), then how many grants each of them needed.',
    [
      ['$0 permlearn.json', 'why each grant of the committed profile is there'],
      ['permlearn --format json --out p.json app.js && $0 p.json', 'learn, then explain'],
    ],
  );
  const { a, help } = await parse(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const positional = a._.map(String);
  if (positional.length !== 1) {
    throw new PermlearnError('usage', positional.length === 0 ? 'missing <profile.json>: permlearn explain <profile.json> (a profile saved with --format json)' : `one profile at a time, got ${positional.length}`);
  }
  return { kind: 'explain', profile: positional[0]! };
}
