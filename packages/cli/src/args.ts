// Command-line parsing (yargs). Turns argv into options or a usage error; does nothing else.
import yargs from 'yargs';
import { DEFAULT_GRANULARITY, DEFAULTS, GRANULARITIES, PermlearnError, RENDER_FORMATS, type Granularity, type Readiness, type RenderFormat } from '@permlearn/core';

export type Format = RenderFormat;

export interface LearnArgs {
  entry: string;
  appArgs: string[];
  node?: string;
  cwd?: string;
  readiness: Readiness;
  maxRuns: number;
  maxRunMs: number;
  graceMs: number;
  format: Format;
  /** Render file-system paths relative to the app's cwd. */
  relative: boolean;
  strategy: 'auto' | 'audit' | 'observe' | 'rerun';
  granularity: Granularity;
  root?: string;
  minimize: boolean;
  out?: string;
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
}

export type Parsed = { kind: 'learn'; args: LearnArgs } | { kind: 'render'; args: RenderArgs } | { kind: 'done'; output: string };

const FORMAT_HELP = 'flags: one shell-quoted line; args: one flag per line; json: the profile; node-options: a NODE_OPTIONS value; config: a node.config.json (Node 26); package-json: a "start" script';

/** yargs' complaints, as one line. */
function failUsage(msg: string, err: Error | undefined): never {
  if (err instanceof PermlearnError) throw err;
  throw new PermlearnError('usage', (msg || err?.message || 'invalid arguments').replace(/\s*\n\s*/g, ' '));
}

function positiveNumber(name: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new PermlearnError('usage', `--${name} must be a positive number, got '${String(value)}'`);
  return n;
}

export async function parseArgs(argv: string[]): Promise<Parsed> {
  let output = '';
  const parser = yargs(argv)
    .scriptName('permlearn')
    .usage('$0 [options] <entry> [-- <app args...>]\n$0 render <profile.json> [--format X] [--node-version V | --node <binary>] [--relative]\n$0 explain <profile.json>\n\nLearn the Node.js permission flags an app needs by running it under --permission.')
    .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': false })
    .option('node', { type: 'string', describe: 'Node binary to run the app under (default: the one running permlearn)' })
    .option('cwd', { type: 'string', describe: "the app's working directory" })
    .option('ready-stdout', { type: 'string', describe: 'ready when a stdout line matches this regular expression' })
    .option('ready-port', { type: 'number', describe: 'ready when a TCP connect to this loopback port succeeds' })
    .option('ready-url', { type: 'string', describe: 'ready when an HTTP GET of this URL answers 2xx' })
    .option('timeout', { type: 'number', describe: 'ready when still running after this many seconds with no denial' })
    .option('max-runs', { type: 'number', default: DEFAULTS.maxRuns, describe: 'stop learning after this many runs' })
    .option('max-run-time', { type: 'number', default: DEFAULTS.maxRunMs / 1000, describe: 'seconds one run may take before it counts as hung' })
    .option('grace', { type: 'number', default: DEFAULTS.graceMs / 1000, describe: 'seconds between SIGTERM and SIGKILL when stopping the app' })
    .option('strategy', { choices: ['auto', 'audit', 'observe', 'rerun'] as const, default: 'auto' as const, describe: 'audit: one --permission-audit run first (Node 24+); observe: one run with the app root readable, keeping the modules it loaded; rerun: enforce runs only; auto: audit where Node has it, else observe' })
    .option('granularity', { choices: GRANULARITIES, default: DEFAULT_GRANULARITY as Granularity, describe: "how far a read grant may reach: file: exactly what was used; dir: each file's folder; package: a dependency's package folder; deps: the whole node_modules (the app's own files become their folders under every policy but file)" })
    .option('root', { type: 'string', describe: 'the project root: no grant is widened to it or above it (default: the nearest folder with a package.json above the entry)' })
    .option('minimize', { type: 'boolean', default: false, describe: 'after learning, try the app without each grant (and each widened grant narrowed back) and keep only what it needs to start' })
    .option('format', { choices: RENDER_FORMATS, default: 'flags' as Format, describe: `what to print on stdout (${FORMAT_HELP})` })
    .option('relative', { type: 'boolean', default: false, describe: "file-system paths relative to the app's cwd (./x), so the result works in another checkout" })
    .option('out', { type: 'string', describe: 'write the result to this file (atomically) instead of stdout' })
    .option('force', { type: 'boolean', default: false, describe: 'let --out overwrite an existing file' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no report on stderr' })
    .strictOptions()
    .help()
    .version(false)
    .exitProcess(false)
    .fail(failUsage);
  const a = await parser.parseAsync(argv, {}, (_err, _argv, text) => {
    output = text;
  });
  if (a.help) return { kind: 'done', output };
  const positional = a._.map(String);
  if (positional.length === 0) throw new PermlearnError('usage', 'missing <entry>: the app file to learn (try --help)');
  const [entry, ...rest] = positional;
  const appArgs = [...rest, ...((a['--'] as string[] | undefined) ?? []).map(String)];

  const readiness: Readiness = {};
  if (a['ready-stdout'] !== undefined) {
    try {
      readiness.stdout = new RegExp(a['ready-stdout']);
    } catch (err) {
      throw new PermlearnError('usage', `--ready-stdout is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (a['ready-port'] !== undefined) {
    const port = a['ready-port'];
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PermlearnError('usage', `--ready-port must be a port number (1-65535), got '${port}'`);
    readiness.port = port;
  }
  if (a['ready-url'] !== undefined) {
    let url: URL;
    try {
      url = new URL(a['ready-url']);
    } catch {
      throw new PermlearnError('usage', `--ready-url is not a URL: '${a['ready-url']}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PermlearnError('usage', '--ready-url must be an http: or https: URL');
    readiness.url = url.href;
  }
  if (a.timeout !== undefined) readiness.aliveAfterMs = positiveNumber('timeout', a.timeout) * 1000;

  const args: LearnArgs = {
    entry: entry!,
    appArgs,
    readiness,
    maxRuns: Math.floor(positiveNumber('max-runs', a['max-runs'])),
    maxRunMs: positiveNumber('max-run-time', a['max-run-time']) * 1000,
    graceMs: positiveNumber('grace', a.grace) * 1000,
    format: a.format,
    relative: a.relative,
    strategy: a.strategy,
    granularity: a.granularity as Granularity,
    minimize: a.minimize,
    ...(a.root !== undefined ? { root: a.root } : {}),
    force: a.force,
    quiet: a.quiet,
  };
  if (a.node !== undefined) args.node = a.node;
  if (a.cwd !== undefined) args.cwd = a.cwd;
  if (a.out !== undefined) args.out = a.out;
  if (readiness.aliveAfterMs !== undefined && readiness.aliveAfterMs >= args.maxRunMs) {
    args.maxRunMs = readiness.aliveAfterMs + 10_000;
  }
  return { kind: 'learn', args };
}

/** `permlearn render <profile.json> …` (argv without the word `render`). */
export async function parseRenderArgs(argv: string[]): Promise<Parsed> {
  let output = '';
  const parser = yargs(argv)
    .scriptName('permlearn render')
    .usage('$0 <profile.json> [--format X] [--node-version V | --node <binary>] [--relative] [--cwd DIR] [--out FILE]\n\nRender a saved profile (--format json) for a Node version, directory and format, without running the app.')
    .option('format', { choices: RENDER_FORMATS, default: 'flags' as Format, describe: FORMAT_HELP })
    .option('node-version', { type: 'string', describe: "render for this Node version (26, 22.13, v22.23.3; default: the profile's)" })
    .option('node', { type: 'string', describe: 'render for the version of this Node binary' })
    .option('relative', { type: 'boolean', default: false, describe: 'file-system paths relative to the cwd (./x), and ../x within the project' })
    .option('cwd', { type: 'string', describe: "the directory the app will run in (default: the profile's cwd); the project's paths move with it" })
    .option('root', { type: 'string', describe: 'the project that travels as a whole: --relative paths may climb to it (default: the nearest folder above the cwd with .git, else the cwd)' })
    .option('out', { type: 'string', describe: 'write the result to this file (atomically) instead of stdout' })
    .option('force', { type: 'boolean', default: false, describe: 'let --out overwrite an existing file' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings on stderr' })
    .conflicts('node-version', 'node')
    .strictOptions()
    .help()
    .version(false)
    .exitProcess(false)
    .fail(failUsage);
  const a = await parser.parseAsync(argv, {}, (_err, _argv, text) => {
    output = text;
  });
  if (a.help) return { kind: 'done', output };
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
  return { kind: 'render', args };
}
