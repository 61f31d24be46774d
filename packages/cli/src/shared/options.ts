// The option parsing every command shares (yargs): the common --help, the option groups, how to run the app,
// the output, several apps, and raw values to checked ones. Each command's own parser is in its file under
// commands/. Options a config file may also set are kept only when given, so that flags override the file (plan.ts).
import { createRequire } from 'node:module';
import yargs, { type Argv } from 'yargs';
import {
  CAUGHT_POLICIES,
  DEFAULTS,
  closestMatch,
  GRANULARITIES,
  NUMBER_RANGES,
  PermlearnError,
  describeRange,
  FORMAT_HELP as CORE_FORMAT_HELP,
  inRange,
  type NumberRange,
  RENDER_FORMATS,
  STRATEGIES,
  type Granularity,
  type Readiness,
  type RenderFormat,
} from '@permlearn/core';

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

/** Each format and what it prints (from core's format registry). */
export const FORMAT_HELP = CORE_FORMAT_HELP;

/** yargs' complaints, as one line. */
export function failUsage(msg: string, err: Error | undefined): never {
  if (err instanceof PermlearnError) throw err;
  throw new PermlearnError('usage', (msg || err?.message || 'invalid arguments').replace(/\s*\n\s*/g, ' '));
}

/** A numeric option as typed (parsed as a string, so that the message can quote it), checked against its range. */
export function numberOption(name: string, value: unknown, range: NumberRange): number {
  if (Array.isArray(value)) throw new PermlearnError('usage', `--${name} is given more than once`);
  const text = String(value).trim();
  const n = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!inRange(n, range)) throw new PermlearnError('usage', `--${name} must be ${describeRange(range)}, got '${String(value)}'`);
  return n;
}

/** Seconds as whole milliseconds, for timers. */
export const msOf = (seconds: number) => Math.round(seconds * 1000);

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
  [11, 'a Node child of the app lost grants it was given, and NODE_OPTIONS cannot reach it either'],
  [130, 'interrupted; every process of the app was stopped'],
];

const EPILOGUE = `Exit codes:\n${EXIT_CODES_HELP.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`).join('\n')}\n\nDocumentation: https://github.com/permlearn/permlearn#readme`;

/** Titles of the option groups in --help, in the order they are shown. */
export const GROUPS = {
  command: 'Checking:',
  ready: 'Readiness (a server; without these the app has started cleanly when it exits 0):',
  learn: 'Learning:',
  output: 'Output:',
  many: 'Several apps:',
  general: 'General:',
} as const;

export function base<T>(parser: Argv<T>, name: string, usage: string, examples: readonly (readonly [string, string])[]) {
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
export function appOptions<T>(parser: Argv<T>) {
  return parser
    .option('config', {
      type: 'string',
      describe: 'a permlearn.config.json (or a package.json with a "permlearn" field); repeatable; default: the one in the current folder, if any',
    })
    .option('node', { type: 'string', describe: 'Node binary to run the app under (default: the one running permlearn)' })
    .option('cwd', { type: 'string', describe: "the app's working directory (default: the config's folder, else the current one)" })
    .option('ready-stdout', { type: 'string', describe: 'ready when a stdout line matches this regular expression' })
    .option('ready-port', { type: 'string', describe: 'ready when a TCP connect to this loopback port succeeds' })
    .option('ready-url', { type: 'string', describe: 'ready when an HTTP GET of this URL answers 2xx' })
    .option('timeout', { type: 'string', describe: 'ready when still running after this many seconds with no denial' })
    .option('exercise', {
      type: 'string',
      describe:
        'a shell command to run once the app is ready (curl, a test suite against it), so that what the app needs to serve it is learned too; repeatable',
    })
    .option('max-runs', { type: 'string', defaultDescription: String(DEFAULTS.maxRuns), describe: 'stop learning after this many runs' })
    .option('max-run-time', {
      type: 'string',
      defaultDescription: String(DEFAULTS.maxRunMs / 1000),
      describe: 'seconds one run may take before it counts as hung',
    })
    .option('grace', {
      type: 'string',
      defaultDescription: String(DEFAULTS.graceMs / 1000),
      describe: 'seconds between SIGTERM and SIGKILL when stopping the app',
    })
    .option('strategy', {
      choices: STRATEGIES,
      defaultDescription: 'auto',
      describe:
        'audit: one --permission-audit run first (Node 24+); observe: one run with the app root readable, keeping the modules it loaded; rerun: enforce runs only; auto: audit where Node has it, else observe',
    })
    .option('granularity', {
      choices: GRANULARITIES,
      defaultDescription: 'deps',
      describe:
        "how far a read grant may reach: file: exactly what was used; dir: each file's folder; package: a dependency's package folder; deps: the whole node_modules (the app's own files become their folders under every policy but file)",
    })
    .option('root', {
      type: 'string',
      describe: 'the project root: no grant is widened to it or above it (default: the nearest folder with a package.json above the entry)',
    })
    .option('minimize', {
      type: 'boolean',
      describe: 'after learning, try the app without each grant (and each widened grant narrowed back) and keep only what it needs to start',
    })
    .option('tighten', {
      type: 'boolean',
      defaultDescription: 'true',
      describe:
        'keep a grant that only a caught denial, a has() check or a lookup of a missing path asked for only if the app fails without it (tried in groups); --no-tighten grants them without trying (fewer runs)',
    })
    .option('caught', {
      choices: CAUGHT_POLICIES,
      defaultDescription: 'grant',
      describe: 'denials the app got by without (it caught them, or has() said no): grant them (the app asked for them) or only report them',
    })
    .option('accept-broad', {
      type: 'string',
      describe:
        "a grant broader than permlearn allows on its own (/, a top-level folder, the home folder, above the project, a '*' in a name), accepted as is, exactly as the refusal names it; repeatable",
    })
    .option('keep-outputs', {
      type: 'boolean',
      describe:
        "leave what the app's last learning run created or changed in place (by default learning puts the project, $TMPDIR and the home folder back as they were)",
    })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no report on stderr; errors are still shown' })
    .group(['ready-stdout', 'ready-port', 'ready-url', 'timeout', 'exercise'], GROUPS.ready)
    .group(
      ['node', 'cwd', 'root', 'strategy', 'granularity', 'minimize', 'tighten', 'caught', 'accept-broad', 'keep-outputs', 'max-runs', 'max-run-time', 'grace'],
      GROUPS.learn,
    )
    .group(['quiet'], GROUPS.output)
    .group(['config'], GROUPS.many);
}

export function outputOptions<T>(parser: Argv<T>) {
  return parser
    .option('format', { choices: RENDER_FORMATS, defaultDescription: 'flags', describe: `what to print on stdout (${FORMAT_HELP})` })
    .option('relative', { type: 'boolean', describe: "file-system paths relative to the app's cwd (./x), so the result works in another checkout" })
    .option('out', { type: 'string', describe: 'write the result to this file (atomically) instead of stdout' })
    .option('force', { type: 'boolean', default: false, describe: 'let --out (or a profile file) overwrite an existing file' })
    .group(['format', 'relative', 'out', 'force'], GROUPS.output);
}

export function manyOptions<T>(parser: Argv<T>) {
  return parser
    .option('workspace', { type: 'boolean', default: false, describe: 'every package under the current folder with a permlearn config, in parallel' })
    .option('concurrency', { type: 'string', describe: 'how many apps to learn at once with --workspace or several configs (default: half the CPUs)' })
    .group(['workspace', 'concurrency'], GROUPS.many);
}

export type Raw = Record<string, unknown> & { _: (string | number)[]; '--'?: (string | number)[] };

export function readinessOf(a: Raw): Readiness | undefined {
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

export function appOverrides(a: Raw): AppOverrides {
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

export function acceptBroadOf(value: unknown): string[] {
  const list = listOf(value);
  if (list.some((v) => v.trim() === '')) throw new PermlearnError('usage', '--accept-broad needs the grant it accepts, as the refusal names it');
  return list;
}

export function outputOverrides(a: Raw): OutputOverrides {
  const o: OutputOverrides = {};
  if (a.format !== undefined) o.format = a.format as Format;
  if (a.relative !== undefined) o.relative = Boolean(a.relative);
  if (a.out !== undefined) o.out = String(a.out);
  return o;
}

export function concurrencyOf(a: Raw): number | undefined {
  if (a.concurrency === undefined) return undefined;
  return numberOption('concurrency', a.concurrency, NUMBER_RANGES.concurrency);
}

/** A repeatable option: absent, one value, or several. */
export function listOf(value: unknown): string[] {
  return value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);
}

export const isConfigFile = (p: string) => p.endsWith('.json');

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
      return new PermlearnError(
        'usage',
        `unknown option --${longOption}${hit ? ` (did you mean --${longOption.startsWith('no-') && hit !== longOption.slice(3) ? `no-${hit}` : hit}?)` : ' (see --help)'}`,
      );
    }
    const shortOptions = /^-([^-\d].*)$/.exec(token)?.[1];
    if (shortOptions !== undefined) {
      const unknown = [...shortOptions.split('=')[0]!].find((c) => !names.has(c));
      if (unknown !== undefined) return new PermlearnError('usage', `unknown option -${unknown} (see --help)`);
    }
  }
  return undefined;
}

/**
 * The index in argv of the first word that is not an option or an option's value, before `--`: where the name
 * of a command given after options sits (`permlearn --node X run -- …`). `parser` says which options take a
 * value; one it does not know is taken to take none (its own command's parser judges it).
 */
export function firstPositional(parser: Argv<unknown>, argv: readonly string[]): number | undefined {
  const opts = (parser as unknown as { getOptions(): { key: Record<string, unknown>; boolean: string[]; alias: Record<string, string[]> } }).getOptions();
  const takesValue = new Set(Object.keys(opts.key).filter((k) => !opts.boolean.includes(k)));
  for (const [name, aliases] of Object.entries(opts.alias)) if (takesValue.has(name)) for (const a of aliases) takesValue.add(a);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') return undefined;
    if (!token.startsWith('-') || token === '-') return i;
    const name = /^--?([^=]+)$/.exec(token)?.[1];
    if (name !== undefined && takesValue.has(token.startsWith('--') ? name : name.slice(-1))) i++;
  }
  return undefined;
}

export async function parseWith(parser: Argv<unknown>, argv: string[]): Promise<{ a: Raw; help?: string }> {
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

/** What a parser gives its command: the options, or the text of --help / --version to print instead. */
export type Parsed<K extends string, A> = { kind: K; args: A } | { kind: 'done'; output: string };
