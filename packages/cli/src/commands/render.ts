// `permlearn render <profile.json>`: a saved profile for another Node, directory or format, without
// running the app. Reads the file and the target, then hands both to the pure renderer in core.
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { PermlearnError, RENDER_FORMATS, checkOutputPath, parseTargetVersion, probeNode, renderProfile, type Rendered } from '@permlearn/core';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../shared/command.js';
import { FORMAT_HELP, GROUPS, acceptBroadOf, base, parseWith, type Format, type Parsed, type Raw } from '../shared/options.js';
import { breadthHere, capabilitiesOfProfile, emitOutput, readProfile, refuseUnverified } from '../shared/profile-io.js';
import { findProjectRoot } from '../shared/paths.js';
import { Reporter, colorEnabled } from '../shared/report.js';

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

/** `permlearn render <profile.json> …` (argv without the word `render`). */
export async function parseRenderArgs(argv: string[]): Promise<Parsed<'render', RenderArgs>> {
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
    .option('root', {
      type: 'string',
      describe: 'the project that travels as a whole: --relative paths may climb to it (default: the nearest folder above the cwd with .git, else the cwd)',
    })
    .option('out', { type: 'string', describe: 'write the result to this file (atomically) instead of stdout' })
    .option('force', { type: 'boolean', default: false, describe: 'let --out overwrite an existing file' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings on stderr; errors are still shown' })
    .option('accept-broad', {
      type: 'string',
      describe: 'render a grant broader than permlearn allows (it was accepted when learned), exactly as the refusal names it; repeatable',
    })
    .conflicts('node-version', 'node')
    .group(['node-version', 'node', 'cwd', 'root', 'accept-broad'], 'Target:')
    .group(['format', 'relative', 'out', 'force', 'quiet'], GROUPS.output);
  const { a: raw, help } = await parseWith(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const a = raw as Raw & {
    format: Format;
    relative: boolean;
    force: boolean;
    quiet: boolean;
    'node-version'?: string;
    node?: string;
    cwd?: string;
    root?: string;
    out?: string;
  };
  const positional = a._.map(String);
  if (positional.length !== 1) {
    throw new PermlearnError(
      'usage',
      positional.length === 0
        ? 'missing <profile.json>: a profile saved with --format json (try render --help)'
        : `one profile at a time, got ${positional.length}`,
    );
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

export async function runRender(args: RenderArgs, reporter: Reporter): Promise<number> {
  const profile = readProfile(args.profile);
  if (args.out) checkOutputPath(args.out, { force: args.force });
  const refusal = refuseUnverified(profile, args.format, args.profile);
  if (refusal) throw refusal;
  const target =
    args.nodeVersion !== undefined
      ? parseTargetVersion(args.nodeVersion)
      : args.node !== undefined
        ? await probeNode(args.node)
        : capabilitiesOfProfile(profile);
  const cwd = path.resolve(args.cwd ?? profile.cwd);
  const rendered: Rendered = renderProfile(profile, {
    format: args.format,
    target,
    relative: args.relative,
    cwd,
    root: args.root !== undefined ? path.resolve(args.root) : findProjectRoot(cwd),
    breadth: breadthHere((args.acceptBroad ?? []).map((v) => (path.isAbsolute(v) ? v : path.join(process.cwd(), v)))),
  });
  emitOutput(rendered.text, args.out, args.force);
  reporter.findings(rendered, { all: true });
  return EXIT.ok;
}

export const command: Command<RenderArgs> = {
  name: 'render',
  describe: 'a saved profile for another Node, directory or format',
  starts: 'nothing',
  parse: parseRenderArgs,
  run: (args, ctx) => runRender(args, new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, ctx.env), quiet: args.quiet })),
};
