// Rendering a saved profile for a target Node, working directory and output format. Pure: a profile
// and the target's capabilities in; flags, text and findings out. Grants are rendered again from their
// path and kind, never from the stored flag strings, so one profile serves another Node or directory.
// The rules come from shared/node-permission-model.md; docs/decisions.md says why each choice was made.
import path from 'node:path';
import { PermlearnError } from '../errors.js';
import { capabilitiesOf, FLAG_OF_SCOPE, MIN_MAJOR, parseNodeVersion, type Capabilities } from './node-versions.js';
import { grantCovers, isSameOrUnder, movePath, projectRootOf, relativePath, renderGrantPath, type Layout } from './paths/index.js';
import { normaliseGrants, withTarget, type Grant } from './grants.js';
import { acceptHint, breadthViolation, isAccepted } from './breadth.js';
import type { Profile } from './profile.js';
import { grantRisk, modelHoles, type HoleCode, type RiskCode } from './risks.js';
import { OUTPUT_FORMATS, type RenderFormat } from './render-formats.js';
import { assertFormatFor, MEASURED_MAJORS } from './render-target.js';
import type { Scope } from './types.js';

export {
  FORMAT_HELP,
  honoursConfigPermission,
  nodeOptionsQuote,
  OUTPUT_FORMATS,
  RENDER_FORMATS,
  type FormatInput,
  type OutputFormat,
  type RenderFormat,
} from './render-formats.js';
export { assertFormatFor, formatRefusesSomeNode, MEASURED_MAJORS, parseTargetVersion } from './render-target.js';

export type RenderCode =
  /** a grant the target Node has no flag for: left out, so the app will be denied */
  | 'scope-not-grantable'
  /** a grant for something the target Node does not restrict: left out (the flag would be a bad option) */
  | 'scope-unenforced'
  /** the target restricts something the Node the profile was learned under did not, so the profile cannot know */
  | 'scope-not-learned'
  /** Node 20 does not grant the entry file by itself: a grant for it was added */
  | 'entry-granted'
  /** 22+ copies grants unquoted into spawned children's NODE_OPTIONS, where a space splits the path */
  | 'space-in-child-options'
  /** 22+ copies relative grants literally into spawned children, which resolve them against their own cwd */
  | 'relative-in-children'
  /** with --relative, a path outside the project stays absolute */
  | 'outside-project'
  /** a format meant to be committed, rendered with absolute paths */
  | 'absolute-paths'
  /** how to use the output */
  | 'usage'
  /** config-file permissions do not follow children like command-line flags */
  | 'config-children'
  /** relative paths in a config file resolve against the process cwd */
  | 'config-relative'
  /** NODE_OPTIONS reaches every Node process started with it */
  | 'node-options-reach'
  /** a target Node line the facts were not measured on */
  | 'unmeasured-version'
  /** the app's children lose command-line flags (a parent rebuilds their execArgv): only NODE_OPTIONS reaches them */
  | 'children-need-node-options'
  | RiskCode
  | HoleCode;

export interface RenderFinding {
  code: RenderCode;
  message: string;
  /** The grant it is about, with its absolute path (after any move to another cwd). */
  flag?: string;
}

export interface RenderOptions {
  format: RenderFormat;
  /** The Node the output is for. */
  target: Capabilities;
  /** Render file-system paths relative to the cwd (`./x`, `../x` within the project). */
  relative?: boolean;
  /** The directory the app will run in (absolute); default: the profile's cwd. Paths of the project
   *  move with it (see `root`). */
  cwd?: string;
  /** The project that travels as a whole (absolute, the cwd or above it); default: the cwd.
   *  With `relative`, paths may climb out of the cwd as far as the project and no further. */
  root?: string;
  /** What the breadth rule is measured against (breadth.ts), and the grants the user accepted beyond it
   *  (`--accept-broad`). Every format refuses a grant that breaks the rule unless it is accepted. */
  breadth?: { homedir: string; tmpdir?: string; accept?: readonly string[] };
}

export interface Rendered {
  format: RenderFormat;
  /** The target Node version. */
  node: string;
  cwd: string;
  relative: boolean;
  /** argv to put before the entry file (the enable flag first). */
  flags: string[];
  /** The entry file: relative to cwd when `relative` (or in a package.json script), else absolute. */
  entry: string;
  args: string[];
  /** The output, ending in a newline. */
  text: string;
  /** Things that make the output weaker than the profile, or the app riskier than it looks. */
  warnings: RenderFinding[];
  /** Things worth knowing that do not depend on this profile's grants. */
  notes: RenderFinding[];
}

/** The JSON format: the profile as learned, plus what the render made of it. */
export type RenderedProfile = Profile & {
  rendered: Pick<Rendered, 'node' | 'cwd' | 'relative' | 'flags' | 'warnings' | 'notes'>;
};

/** Where the project is now, and where it was when the profile was learned. */
interface Moved extends Layout {
  fromRoot: string;
}

/** Move a path of the learned project to where the project is now. */
function rebase(p: string, layout: Moved): string {
  return movePath(p, layout.fromRoot, layout.root);
}

/**
 * Render `profile` for `options.target`: the enable flag of that Node, each grant it can express
 * (from path and kind), and the findings that go with them; then the text of the chosen format.
 * Throws a usage error when the format cannot express this profile for that Node.
 */
export function renderProfile(profile: Profile, options: RenderOptions): Rendered {
  const { target, format } = options;
  const relative = options.relative ?? false;
  const v = target.version.major;
  const cwd = path.resolve(options.cwd ?? profile.cwd);
  const root = path.resolve(options.root ?? cwd);
  if (!isSameOrUnder(cwd, root)) throw new PermlearnError('usage', `the project root ${root} does not contain the cwd ${cwd}`);
  const layout: Moved = { cwd, root, fromRoot: projectRootOf(profile.cwd, { cwd, root }) };
  const warnings: RenderFinding[] = [];
  const notes: RenderFinding[] = [];

  assertFormatFor(format, target);
  const refused = OUTPUT_FORMATS[format].refuseProfile?.(profile);
  if (refused !== undefined) throw new PermlearnError('usage', refused);

  if (!MEASURED_MAJORS.includes(v)) {
    const like = [...MEASURED_MAJORS].reverse().find((m) => m < v) ?? MIN_MAJOR;
    notes.push({ code: 'unmeasured-version', message: `Node ${v} was not measured; it is rendered like Node ${like}` });
  }

  // What the target can grant.
  const kept: Grant[] = [];
  for (const g of profile.grants) {
    const grant: Grant = withTarget(g.path === undefined ? g : { ...g, path: rebase(g.path, layout) }, { denials: g.denials, notes: g.notes });
    if (target.grantable.has(g.scope)) {
      kept.push(grant);
    } else if (target.unrestricted.has(g.scope)) {
      const f = absoluteFlag(grant);
      notes.push({
        code: 'scope-unenforced',
        flag: f,
        message: `${f} left out: Node ${v} does not restrict ${describeScope(g.scope)} at all and rejects the flag as a bad option; the app has that access anyway`,
      });
    } else {
      const f = absoluteFlag(grant);
      warnings.push({
        code: 'scope-not-grantable',
        flag: f,
        message: `${f} left out: Node ${v} has no such flag, so what the app needed it for will be denied`,
      });
    }
  }
  const learnedOn = parseNodeVersion(profile.node);
  if (learnedOn) {
    const source = capabilitiesOf(learnedOn);
    for (const scope of source.unrestricted) {
      if (target.grantable.has(scope)) {
        warnings.push({
          code: 'scope-not-learned',
          message: `learned under Node ${learnedOn.major}, which does not restrict ${describeScope(scope)}; Node ${v} does, and whether the app needs ${FLAG_OF_SCOPE[scope]} was never tested: learn again under Node ${v}`,
        });
      }
    }
  }

  const entryAbs = rebase(path.resolve(profile.cwd, profile.entry), layout);
  // A profile learned through a command (`permlearn run -- npm start`) has no entry file: its Node
  // processes' own entries were learned like any other read (Node 20 does not grant them).
  if (
    !profile.command &&
    !target.autoGrantsEntry &&
    !kept.some((g) => g.scope === 'fs.read' && g.path !== undefined && grantCovers(g.path, g.kind, entryAbs))
  ) {
    kept.push({ scope: 'fs.read', path: entryAbs, kind: 'file', denials: [], notes: [] });
    notes.push({ code: 'entry-granted', message: `Node ${v} does not grant the entry file by itself: --allow-fs-read for ${entryAbs} added` });
  }
  const grants = normaliseGrants(kept);
  assertWithinBreadth(grants, profile, layout, options);

  // Flags, with paths as the target needs them.
  const flags = [target.enableFlag];
  const values: { scope: Scope; value?: string }[] = [];
  let anyRelative = false;
  for (const g of grants) {
    if (g.path === undefined) {
      flags.push(FLAG_OF_SCOPE[g.scope]);
      values.push({ scope: g.scope });
      continue;
    }
    let p = g.path;
    if (relative) {
      const rel = relativePath(g.path, layout, { dotSlash: true });
      if (rel === undefined)
        notes.push({ code: 'outside-project', flag: absoluteFlag(g), message: `${g.path} stays absolute: it is outside the project (${root})` });
      else {
        p = rel;
        anyRelative = true;
      }
    }
    const value = renderGrantPath(p, g.kind);
    flags.push(`${FLAG_OF_SCOPE[g.scope]}=${value}`);
    values.push({ scope: g.scope, value });
  }
  const entryFromCwd = relativePath(entryAbs, layout) ?? entryAbs;
  const entry = relative || format === 'package-json' ? entryFromCwd : entryAbs;

  // Risks of each grant, and what the model never checks on this Node.
  for (const g of grants) {
    const risk = grantRisk(g, { cwd, entry: entryAbs, grants, caps: target });
    if (risk) warnings.push({ code: risk.code, flag: absoluteFlag(g), message: risk.message });
  }
  const children = grants.some((g) => g.scope === 'child');
  if (children && target.propagatesToSpawned && format !== 'config') {
    for (const g of grants) {
      if (g.path?.includes(' ')) {
        warnings.push({
          code: 'space-in-child-options',
          flag: absoluteFlag(g),
          message: `${g.path} contains a space: Node ${v} copies grants unquoted into spawned children's NODE_OPTIONS, where the path is cut at the space`,
        });
      }
    }
    if (anyRelative) {
      warnings.push({
        code: 'relative-in-children',
        message: `Node ${v} copies relative grants literally into spawned children's NODE_OPTIONS; a child resolves them against its own cwd`,
      });
    }
  }
  for (const hole of modelHoles(target)) notes.push(hole);

  const base = { format, node: target.version.raw, cwd, relative, flags, entry, args: profile.args, warnings, notes };
  return { ...base, text: renderText(profile, base, values, children, entryFromCwd) };
}

/**
 * No format ever carries a grant that breaks the breadth rule, however the profile came to hold it (a
 * hand edit, a merge, an older permlearn): it is refused unless the user accepted that very grant.
 */
function assertWithinBreadth(grants: readonly Grant[], profile: Profile, layout: Moved, options: RenderOptions): void {
  const root = profile.root !== undefined ? rebase(profile.root, layout) : layout.root;
  const ctx = { homedir: options.breadth?.homedir ?? '', root, ...(options.breadth?.tmpdir !== undefined ? { tmpdir: options.breadth.tmpdir } : {}) };
  for (const g of grants) {
    const v = breadthViolation(g, ctx);
    if (v && !isAccepted(v, options.breadth?.accept)) {
      throw new PermlearnError('too-broad', `refusing to render ${absoluteFlag(g)}: ${v.reason}; ${acceptHint(v)}`);
    }
  }
}

/** A grant as a flag with its absolute path: how findings name it, whatever the output's paths look like. */
function absoluteFlag(g: Grant): string {
  return g.path === undefined ? FLAG_OF_SCOPE[g.scope] : `${FLAG_OF_SCOPE[g.scope]}=${renderGrantPath(g.path, g.kind)}`;
}

function describeScope(scope: Scope): string {
  return scope === 'net' ? 'the network' : `'${scope}'`;
}

/** The chosen format's text, after the warning every command-line-only format gets for a profile verified through NODE_OPTIONS. */
function renderText(profile: Profile, r: Omit<Rendered, 'text'>, values: { scope: Scope; value?: string }[], children: boolean, entryFromCwd: string): string {
  // A profile learned with its flags in NODE_OPTIONS (a child of the app rebuilds its execArgv and
  // loses command-line grants) works only that way: formats that can say so do, the others warn.
  const viaEnv = profile.delivery === 'node-options';
  const entry = OUTPUT_FORMATS[r.format];
  if (viaEnv && entry.commandLineOnly) {
    r.warnings.push({
      code: 'children-need-node-options',
      message:
        "this app's Node children lose grants given on the command line (a parent rebuilds their execArgv), and it was verified with the flags in NODE_OPTIONS: use --format flags or node-options",
    });
  }
  return entry.text({ profile, r, values, children, entryFromCwd, viaEnv });
}
