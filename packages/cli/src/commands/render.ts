// `permlearn render <profile.json>`: a saved profile for another Node, directory or format, without
// running the app. Reads the file and the target, then hands both to the pure renderer in core.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PermlearnError,
  capabilitiesOf,
  checkOutputPath,
  parseNodeVersion,
  parseTargetVersion,
  probeNode,
  renderProfile,
  writeFileAtomic,
  type Capabilities,
  type Profile,
  type Rendered,
  type RenderFormat,
} from '@permlearn/core';
import type { RenderArgs } from '../shared/options.js';
import { EXIT } from '../exit-codes.js';
import { readProfileFile } from '../shared/profile-io.js';
import type { Reporter } from '../shared/report.js';

/**
 * The project a profile travels with: the nearest folder at or above `cwd` that holds `.git` (a
 * committed profile moves with its checkout), never `/` or the home folder; else `cwd` itself.
 */
export function findProjectRoot(cwd: string, home = os.homedir()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (dir === '/' || dir === home) break;
    if (existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  return path.resolve(cwd);
}

/** The capabilities of the Node a learned profile names (its own version when rendering for the same Node). */
export function capabilitiesOfProfile(profile: Profile): Capabilities {
  const version = parseNodeVersion(profile.node);
  if (!version) throw new PermlearnError('usage', `the profile's "node" (${profile.node}) is not a Node version`);
  return capabilitiesOf(version);
}

/** What the breadth rule is measured against on this machine, and what the user accepted beyond it. */
export function breadthHere(accept: readonly string[] = []): { homedir: string; tmpdir: string; accept: readonly string[] } {
  return { homedir: os.homedir(), tmpdir: os.tmpdir(), accept };
}

/** Write rendered text where the user asked: a file (atomically, kept unless --force; see checkOutputPath first) or stdout. */
export function emit(text: string, out: string | undefined, force: boolean): void {
  if (out) writeFileAtomic(out, text, { force });
  else process.stdout.write(text);
}

/**
 * Refuse, before any work, a saved profile holding a grant beyond the breadth rule that the user did not
 * accept: the same judgement (renderProfile's) that would stop it at the end, with the file named.
 */
export function refuseTooBroad(profile: Profile, name: string, accept: readonly string[], cwd = profile.cwd): void {
  try {
    renderProfile(profile, { format: 'json', target: capabilitiesOfProfile(profile), cwd, root: findProjectRoot(cwd), breadth: breadthHere(accept) });
  } catch (err) {
    if (err instanceof PermlearnError && err.kind === 'too-broad') throw new PermlearnError('too-broad', `${name}: ${err.message}`);
    throw err;
  }
}

/** A profile that did not verify has incomplete grants: only its JSON (which says so) is rendered. */
export function refuseUnverified(profile: Profile, format: RenderFormat, name: string): void {
  if (!profile.verified && format !== 'json') {
    throw new PermlearnError('usage', `${name} did not verify (${profile.status}): its grants are incomplete, so only --format json renders it`);
  }
}

export async function renderCommand(args: RenderArgs, reporter: Reporter): Promise<number> {
  const profile = readProfileFile(args.profile);
  if (args.out) checkOutputPath(args.out, { force: args.force });
  refuseUnverified(profile, args.format, args.profile);
  const target = args.nodeVersion !== undefined ? parseTargetVersion(args.nodeVersion) : args.node !== undefined ? await probeNode(args.node) : capabilitiesOfProfile(profile);
  const cwd = path.resolve(args.cwd ?? profile.cwd);
  const rendered: Rendered = renderProfile(profile, {
    format: args.format,
    target,
    relative: args.relative,
    cwd,
    root: args.root !== undefined ? path.resolve(args.root) : findProjectRoot(cwd),
    breadth: breadthHere((args.acceptBroad ?? []).map((v) => (path.isAbsolute(v) ? v : path.join(process.cwd(), v)))),
  });
  emit(rendered.text, args.out, args.force);
  reporter.findings(rendered, { all: true });
  return EXIT.ok;
}
