// The project's permlearn configuration (`permlearn.config.json`, or a `permlearn` field in package.json):
// checking what the file says and resolving its paths. Pure: the CLI reads the file and passes the data in.
import path from 'node:path';
import { PermlearnError } from '../errors.js';
import { GRANULARITIES, type Granularity } from './generalise.js';
import { RENDER_FORMATS, type RenderFormat } from './render.js';
import { closestMatch } from './suggest.js';
import { LEARN_STRATEGIES } from './types.js';

export const CONFIG_FILE = 'permlearn.config.json';
/** The committed profile `permlearn check` compares with, unless the config or `--profile` names another. */
export const DEFAULT_PROFILE_FILE = 'permlearn.json';
/** What --strategy and the config accept: a learning strategy, or `auto` to pick one per Node line. */
export const STRATEGIES = ['auto', ...LEARN_STRATEGIES] as const;
/** What to do with denials an app got by without: grant them (the app asked) or only report them. */
export const CAUGHT_POLICIES = ['grant', 'report'] as const;

export interface ConfigReadiness {
  /** A regular expression a stdout line must match. */
  stdout?: string;
  port?: number;
  url?: string;
  /** Seconds the app must stay up without a denial. */
  timeout?: number;
}

/** What a config file may say. Paths are as written (relative to the file's folder) until `resolveConfig`. */
export interface PermlearnConfig {
  /** A name for the service in summaries (default: the folder's name). */
  name?: string;
  entry?: string;
  args?: string[];
  /** A start command (`["npm", "start"]`) learned as `permlearn run` would; instead of `entry`. */
  command?: string[];
  node?: string;
  cwd?: string;
  readiness?: ConfigReadiness;
  exercise?: string[];
  root?: string;
  granularity?: Granularity;
  strategy?: (typeof STRATEGIES)[number];
  minimize?: boolean;
  /** Keep a grant only a caught denial, a has() check or a missing-path lookup asked for only if the app fails without it (default true). */
  tighten?: boolean;
  /** `grant` (default): what the app was denied and got by without is granted too; `report`: only listed. */
  caught?: (typeof CAUGHT_POLICIES)[number];
  /** Grants the user accepts beyond the breadth rule, as Node is given them (relative to the config's folder). */
  acceptBroad?: string[];
  maxRuns?: number;
  /** Seconds. */
  maxRunTime?: number;
  /** Seconds. */
  grace?: number;
  /** The committed profile (JSON) that `permlearn check` compares with and workspace learning writes. */
  profile?: string;
  format?: RenderFormat;
  relative?: boolean;
  out?: string;
}

type Check = (value: unknown, key: string) => string | undefined;

/** The range of a numeric setting. */
export interface NumberRange {
  min: number;
  max: number;
  integer: boolean;
  /** What the number counts, for messages: `seconds`. */
  unit?: string;
}

// Node's timers hold at most 2^31-1 ms (about 24.8 days): seconds stay well below that, with room
// for the margin a run's time limit gets over --timeout.
const SECONDS: NumberRange = { min: 0.001, max: 2_000_000, integer: false, unit: 'seconds' };

/** The allowed range of every numeric option and config key. */
export const NUMBER_RANGES = {
  maxRuns: { min: 1, max: 100_000, integer: true },
  maxRunTime: SECONDS,
  grace: SECONDS,
  timeout: SECONDS,
  port: { min: 1, max: 65_535, integer: true },
  concurrency: { min: 1, max: 1_024, integer: true },
} satisfies Record<string, NumberRange>;

/** What a number in `range` is, for messages: `a whole number from 1 to 100000`. */
export function describeRange(range: NumberRange): string {
  return `${range.integer ? 'a whole number' : `a number${range.unit ? ` of ${range.unit}` : ''}`} from ${range.min} to ${range.max}`;
}

/** Is `value` a number within `range`? */
export function inRange(value: unknown, range: NumberRange): value is number {
  return typeof value === 'number' && Number.isFinite(value) && (!range.integer || Number.isInteger(value)) && value >= range.min && value <= range.max;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;

const nonEmptyString: Check = (v) => (isString(v) && v !== '' ? undefined : `must be a non-empty string, got ${describe(v)}`);
const stringList: Check = (v) => (Array.isArray(v) && v.every(isString) ? undefined : `must be an array of strings, got ${describe(v)}`);
const nonEmptyStringList: Check = (v) =>
  stringList(v, '') ?? ((v as string[]).length > 0 && (v as string[]).every((s) => s !== '') ? undefined : 'must list at least one non-empty string');
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : `must be true or false, got ${describe(v)}`);
const numberIn =
  (range: NumberRange): Check =>
  (v) =>
    inRange(v, range) ? undefined : `must be ${describeRange(range)}, got ${describe(v)}`;
const oneOf =
  (choices: readonly string[]): Check =>
  (v) =>
    isString(v) && choices.includes(v) ? undefined : `must be one of ${choices.join(', ')}, got ${describe(v)}`;

const READINESS_KEYS: Record<keyof ConfigReadiness, Check> = {
  stdout: (v) => {
    const bad = nonEmptyString(v, '');
    if (bad) return bad;
    try {
      new RegExp(v as string);
      return undefined;
    } catch (err) {
      return `is not a valid regular expression: ${(err as Error).message}`;
    }
  },
  port: numberIn(NUMBER_RANGES.port),
  url: (v) => {
    const bad = nonEmptyString(v, '');
    if (bad) return bad;
    let url: URL;
    try {
      url = new URL(v as string);
    } catch {
      return `is not a URL: ${JSON.stringify(v)}`;
    }
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must be an http: or https: URL';
  },
  timeout: numberIn(NUMBER_RANGES.timeout),
};

const KEYS: Record<keyof PermlearnConfig | '$schema', Check> = {
  $schema: nonEmptyString,
  name: nonEmptyString,
  entry: nonEmptyString,
  args: stringList,
  command: nonEmptyStringList,
  node: nonEmptyString,
  cwd: nonEmptyString,
  readiness: () => undefined, // checked key by key below
  exercise: (v) => stringList(v, '') ?? ((v as string[]).some((s) => s.trim() === '') ? 'must not hold an empty command' : undefined),
  root: nonEmptyString,
  granularity: oneOf(GRANULARITIES),
  strategy: oneOf(STRATEGIES),
  minimize: boolean,
  tighten: boolean,
  caught: oneOf(CAUGHT_POLICIES),
  acceptBroad: (v) => stringList(v, '') ?? ((v as string[]).some((s) => s.trim() === '') ? 'must not hold an empty grant' : undefined),
  maxRuns: numberIn(NUMBER_RANGES.maxRuns),
  maxRunTime: numberIn(NUMBER_RANGES.maxRunTime),
  grace: numberIn(NUMBER_RANGES.grace),
  profile: nonEmptyString,
  format: oneOf(RENDER_FORMATS),
  relative: boolean,
  out: nonEmptyString,
};

/** `max-runs`, `MaxRuns`, `max_runs` and `maxRusn` all point at `maxRuns`. */
function suggestion(key: string, known: readonly string[]): string {
  const hit = closestMatch(
    key,
    known.filter((k) => k !== '$schema'),
  );
  return hit ? ` (did you mean "${hit}"?)` : ` (known keys: ${known.filter((k) => k !== '$schema').join(', ')})`;
}

/**
 * Check a config object as read from JSON. `source` names it in messages (`permlearn.config.json`,
 * `package.json "permlearn"`). Throws a one-line usage error naming the first bad key.
 */
export function parseConfig(data: unknown, source: string): PermlearnConfig {
  const fail = (message: string): never => {
    throw new PermlearnError('usage', `${source}: ${message}`);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail(`must be a JSON object, got ${describe(data)}`);
  const obj = data as Record<string, unknown>;
  const known = Object.keys(KEYS);
  for (const [key, value] of Object.entries(obj)) {
    if (!Object.hasOwn(KEYS, key)) fail(`unknown key "${key}"${suggestion(key, known)}`);
    const bad = KEYS[key as keyof typeof KEYS](value, key);
    if (bad) fail(`"${key}" ${bad}`);
  }
  if (obj.readiness !== undefined) {
    const r = obj.readiness;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) fail(`"readiness" must be an object such as {"port": 3000}, got ${describe(r)}`);
    const rKnown = Object.keys(READINESS_KEYS);
    for (const [key, value] of Object.entries(r as Record<string, unknown>)) {
      if (!Object.hasOwn(READINESS_KEYS, key)) fail(`unknown key "readiness.${key}"${suggestion(key, rKnown).replace('known keys', 'known readiness keys')}`);
      const bad = READINESS_KEYS[key as keyof ConfigReadiness](value, key);
      if (bad) fail(`"readiness.${key}" ${bad}`);
    }
  }
  if (obj.entry !== undefined && obj.command !== undefined) fail('give either "entry" (a file node runs) or "command" (a start command), not both');
  if (obj.args !== undefined && obj.command !== undefined) fail('"args" go with "entry"; put a command\'s arguments in "command"');
  const { $schema: _schema, ...config } = obj;
  return config as PermlearnConfig;
}

/**
 * The config in a file's text. For a package.json (`packageJson`), the `permlearn` field, or undefined
 * when there is none. Throws a usage error for text that is not JSON.
 */
export function parseConfigText(text: string, source: string, { packageJson = false } = {}): PermlearnConfig | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PermlearnError('usage', `${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!packageJson) return parseConfig(data, source);
  if (typeof data !== 'object' || data === null || !Object.hasOwn(data, 'permlearn')) return undefined;
  return parseConfig((data as { permlearn: unknown }).permlearn, `${source} "permlearn"`);
}

/** A config whose paths are absolute: `cwd` (default: the file's folder), `entry`, `root`, `profile`,
 *  `out` and a `node` given as a path are relative to the folder of the file that holds the config. */
export interface ResolvedConfig extends PermlearnConfig {
  /** The folder of the config file. */
  dir: string;
  name: string;
  cwd: string;
  profile: string;
}

export function resolveConfig(config: PermlearnConfig, dir: string): ResolvedConfig {
  const abs = (p: string) => path.resolve(dir, p);
  const out: ResolvedConfig = {
    ...config,
    dir,
    name: config.name ?? path.basename(dir),
    cwd: abs(config.cwd ?? '.'),
    profile: abs(config.profile ?? DEFAULT_PROFILE_FILE),
  };
  if (config.entry !== undefined) out.entry = abs(config.entry);
  if (config.root !== undefined) out.root = abs(config.root);
  if (config.out !== undefined) out.out = abs(config.out);
  // `node` alone is looked up on PATH; `./node`, `bin/node` or an absolute path is a file.
  if (config.node !== undefined && config.node.includes('/')) out.node = abs(config.node);
  return out;
}

/** Every key a config may hold, and the readiness keys (the JSON Schema the CLI ships is tested against them). */
export const CONFIG_KEYS: readonly string[] = Object.keys(KEYS);
export const CONFIG_READINESS_KEYS: readonly string[] = Object.keys(READINESS_KEYS);
