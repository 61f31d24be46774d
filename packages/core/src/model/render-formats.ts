// The output formats, one entry each: its `--help` words, what it refuses, and its text from the
// rendered flags. Adding a format is a name in RENDER_FORMATS and its entry in OUTPUT_FORMATS (the
// compiler asks for it). Pure.
import { FLAG_OF_SCOPE, type Capabilities, type NodeVersion } from './node-versions.js';
import { PermlearnError } from '../errors.js';
import { shellQuote, type Profile } from './profile.js';
import { renderDropSnippet } from './drop-plan/index.js';
import type { Rendered, RenderedProfile } from './render.js';
import type { Scope } from './types.js';

export const RENDER_FORMATS = ['flags', 'args', 'json', 'node-options', 'config', 'package-json', 'drop-plan'] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

/** What a format's text is made from: the profile, the render so far (its findings may still grow), and each flag's value. */
export interface FormatInput {
  profile: Profile;
  r: Omit<Rendered, 'text'>;
  values: { scope: Scope; value?: string }[];
  /** The profile grants child processes. */
  children: boolean;
  entryFromCwd: string;
  /** The profile was verified with its flags in NODE_OPTIONS (its Node children lose command-line grants). */
  viaEnv: boolean;
}

export interface OutputFormat {
  /** What it prints, for `--format`'s help. */
  help: string;
  /** Why `target` cannot use this format at all (checked before learning), or undefined. */
  refusal?(target: Capabilities): string | undefined;
  /** Why this profile cannot be given in this format, or undefined (checked first, when rendering). */
  refuseProfile?(profile: Profile): string | undefined;
  /** It carries the flags on a command line only: a profile verified through NODE_OPTIONS is warned about. */
  commandLineOnly?: boolean;
  /** The output, ending in a newline; throws a usage error when the format cannot express it. */
  text(input: FormatInput): string;
}

/** Quote one argument for NODE_OPTIONS: Node splits it on spaces, and inside "…" a backslash escapes the next character. */
export function nodeOptionsQuote(arg: string): string {
  if (arg !== '' && !/[\s"\\]/.test(arg)) return arg;
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The config file's top-level `permission` namespace turns the model on by itself (26; facts §6.1). */
export function honoursConfigPermission(caps: Capabilities): boolean {
  return caps.version.major >= 26;
}

function configRefusal(v: NodeVersion): string {
  if (v.major >= 24) {
    return `Node ${v.major} reads a config file's "permission" namespace but does not turn the model on with it (--permission must stay on the command line, and spawned children then get no grants); use --format flags or node-options, or render for Node 26`;
  }
  if (v.major >= 22) {
    return `Node ${v.major} silently ignores a config file's "permission" namespace (the app would run unrestricted); use --format flags or node-options, or render for Node 26`;
  }
  return `Node ${v.major} has no config file (--experimental-config-file is a bad option); use --format flags or node-options`;
}

function hasLineBreak(s: string): boolean {
  return /[\n\r]/.test(s);
}

/** A note for the formats meant to be committed, when their paths are absolute. */
function commit(r: FormatInput['r'], what: string): void {
  if (!r.relative)
    r.notes.push({ code: 'absolute-paths', message: `the paths are absolute, so the ${what} works only in ${r.cwd}; --relative makes it portable` });
}

const envPrefix = (r: FormatInput['r']) => `NODE_OPTIONS=${shellQuote(r.flags.map(nodeOptionsQuote).join(' '))}`;

export const OUTPUT_FORMATS: Record<RenderFormat, OutputFormat> = {
  flags: {
    help: 'one shell-quoted line',
    // A Node child of the app keeps only what NODE_OPTIONS gives it: the flags as a shell assignment.
    text: ({ r, viaEnv }) => (viaEnv ? `${envPrefix(r)}\n` : `${r.flags.map(shellQuote).join(' ')}\n`),
  },
  args: {
    help: 'one flag per line',
    commandLineOnly: true,
    text: ({ r }) => {
      const broken = r.flags.find(hasLineBreak);
      if (broken) throw new PermlearnError('usage', `--format args cannot express a line break in ${JSON.stringify(broken)}; use --format flags or json`);
      return `${r.flags.join('\n')}\n`;
    },
  },
  json: {
    help: 'the profile',
    text: ({ profile, r }) => {
      const out: RenderedProfile = {
        ...profile,
        rendered: { node: r.node, cwd: r.cwd, relative: r.relative, flags: r.flags, warnings: r.warnings, notes: r.notes },
      };
      return `${JSON.stringify(out, null, 2)}\n`;
    },
  },
  'node-options': {
    help: 'a NODE_OPTIONS value',
    text: ({ r }) => {
      r.notes.push({
        code: 'node-options-reach',
        message:
          'NODE_OPTIONS reaches every Node process started with it (npm, npx, build tools too): set it for the app alone, as in NODE_OPTIONS="$(cat flags.txt)" node app.js',
      });
      return `${r.flags.map(nodeOptionsQuote).join(' ')}\n`;
    },
  },
  config: {
    help: 'a node.config.json (Node 26)',
    refusal: (target) => (honoursConfigPermission(target) ? undefined : configRefusal(target.version)),
    commandLineOnly: true,
    text: ({ r, values, children, entryFromCwd }) => {
      const v = Number(r.node.slice(1).split('.')[0]);
      const permission: Record<string, boolean | string[]> = { permission: true };
      for (const { scope, value } of values) {
        const key = FLAG_OF_SCOPE[scope].slice(2);
        if (value === undefined) permission[key] = true;
        else if (Array.isArray(permission[key])) permission[key].push(value);
        else permission[key] = [value];
      }
      const config = { $schema: `https://nodejs.org/dist/${r.node}/docs/node-config-schema.json`, permission };
      r.notes.push({
        code: 'usage',
        message: `run it from ${r.cwd} as: node --experimental-config-file=node.config.json ${shellQuote(entryFromCwd)} (Node prints an ExperimentalWarning)`,
      });
      if (r.relative)
        r.notes.push({ code: 'config-relative', message: "relative paths in a config file resolve against the process's cwd, not the file's folder" });
      if (children) {
        r.warnings.push({
          code: 'config-children',
          message: `config-file permissions do not follow children as flags do: on Node ${v} a spawned Node child runs unrestricted, and a forked one gets --experimental-config-file with the path as given (a relative path fails in another cwd)`,
        });
      }
      commit(r, 'config file');
      return `${JSON.stringify(config, null, 2)}\n`;
    },
  },
  'package-json': {
    help: 'a "start" script',
    refuseProfile: (profile) =>
      profile.command
        ? `this profile was learned through a command (${profile.command.join(' ')}), which has no entry file for a start script; use --format node-options and set NODE_OPTIONS for that command`
        : undefined,
    text: ({ r, viaEnv }) => {
      const start = viaEnv
        ? `${envPrefix(r)} ${['node', r.entry, ...r.args].map(shellQuote).join(' ')}`
        : ['node', ...r.flags, r.entry, ...r.args].map(shellQuote).join(' ');
      r.notes.push({ code: 'usage', message: `npm runs scripts from the folder that holds package.json: the script assumes that is ${r.cwd}` });
      commit(r, 'script');
      return `${JSON.stringify({ scripts: { start } }, null, 2)}\n`;
    },
  },
  'drop-plan': {
    help: 'the flags and the process.permission.drop() calls for what only start-up uses (Node 24+)',
    refusal: (target) => (target.hasDrop ? undefined : `Node ${target.version.raw} has no process.permission.drop() (it arrived in Node 24)`),
    text: ({ profile, r, viaEnv, entryFromCwd }) => {
      if (!profile.dropPlan)
        throw new PermlearnError('usage', 'this profile has no drop plan: learn it with --format drop-plan (Node 24+, with a readiness option and --exercise)');
      for (const n of profile.dropPlan.notes) r.warnings.push({ code: 'usage', message: n });
      const snippet = renderDropSnippet(profile.dropPlan, { cwd: r.cwd, relative: r.relative, entry: entryFromCwd, node: profile.node });
      const run = viaEnv ? `${envPrefix(r)} node ${shellQuote(r.entry)}` : `node ${r.flags.map(shellQuote).join(' ')} ${shellQuote(r.entry)}`;
      return `// ${run}\n${snippet}`;
    },
  },
};

/** `--format`'s help: each format and what it prints. */
export const FORMAT_HELP = RENDER_FORMATS.map((f) => `${f}: ${OUTPUT_FORMATS[f].help}`).join('; ');
