// A profile in and out of the CLI. In: a saved profile read for explain, render, merge, check and record (a
// regular file of sane size whose text passes core's schema, parseProfile). Out: rendered for this machine
// (renderForOutput), refused when it did not verify or is too broad, printed or written (emitOutput).
// The breadth rule (core's breadth.ts) is applied where a profile is rendered, with what the user accepted.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  MAX_PROFILE_BYTES,
  PermlearnError,
  ProfileError,
  breadthViolation,
  capabilitiesOf,
  parseNodeVersion,
  parseProfile,
  renderGrantFlag,
  renderProfile,
  writeFileAtomic,
  type Capabilities,
  type Profile,
  type Rendered,
  type RenderFormat,
} from '@permlearn/core';
import { findProjectRoot } from './paths.js';

/** The profile's text: opened without blocking (a FIFO is refused, not waited on), a regular file only. */
function readProfileText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new PermlearnError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new PermlearnError('usage', `cannot read ${file}: not a regular file`);
    if (st.size > MAX_PROFILE_BYTES) throw new ProfileError(`${file} is larger than ${MAX_PROFILE_BYTES / 1024 / 1024} MiB: not a profile permlearn wrote`);
    return readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof PermlearnError) throw err;
    throw new PermlearnError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  } finally {
    closeSync(fd);
  }
}

/** Each grant of `profile` that breaks the breadth rule, with why (the entry file too, which Node 20 is given). */
export function broadGrants(profile: Profile, homedir = os.homedir()): { at: string; flag: string; why: string }[] {
  const ctx = { homedir, tmpdir: os.tmpdir(), ...(profile.root !== undefined ? { root: profile.root } : {}) };
  const out: { at: string; flag: string; why: string }[] = [];
  profile.grants.forEach((g, i) => {
    const v = breadthViolation(g, ctx);
    if (v) out.push({ at: `grants[${i}]`, flag: renderGrantFlag(g), why: v.reason });
  });
  if (!profile.command) {
    const entry = path.resolve(profile.cwd, profile.entry);
    const v = breadthViolation({ scope: 'fs.read', path: entry, kind: 'file' }, ctx);
    if (v) out.push({ at: 'entry', flag: `--allow-fs-read=${entry}`, why: v.reason });
  }
  return out;
}

/** A saved profile, checked; throws a one-line ProfileError (or a usage error when it cannot be read). */
export function readProfile(file: string): Profile {
  return parseProfile(readProfileText(file), file);
}

/** The profile and the text it was read from (to replace the file only while it still holds that: check --write). */
export function readProfileWithText(file: string): { profile: Profile; text: string } {
  const text = readProfileText(file);
  return { profile: parseProfile(text, file), text };
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

/** How a command wants a profile it has in hand rendered; by default its own JSON. */
export interface OutputChoice {
  format?: RenderFormat;
  relative?: boolean;
  acceptBroad?: readonly string[];
}

/** A profile learned or merged here, rendered for the Node it names, in its own cwd and project. */
export function renderForOutput(profile: Profile, choice: OutputChoice = {}): Rendered {
  return renderProfile(profile, {
    format: choice.format ?? 'json',
    target: capabilitiesOfProfile(profile),
    ...(choice.relative !== undefined ? { relative: choice.relative } : {}),
    root: findProjectRoot(profile.cwd),
    breadth: breadthHere(choice.acceptBroad),
  });
}

/** The profile as the JSON a profile file holds (what check compares with, what render and explain read). */
export function profileJson(profile: Profile, acceptBroad: readonly string[] = []): string {
  return renderForOutput(profile, { format: 'json', acceptBroad }).text;
}

/** Write rendered text where the user asked: a file (atomically, kept unless --force; see checkOutputPath first) or stdout. */
export function emitOutput(text: string, out: string | undefined, force: boolean): void {
  if (out) writeFileAtomic(out, text, { force });
  else process.stdout.write(text);
}

/**
 * Why `profile` may not be output as `format`, or undefined when it may. A profile that did not verify has
 * incomplete grants, so every command gives only its JSON (which says `verified: false`), never flags: render
 * throws this (a usage error, exit 2); learn and merge print nothing but say why, and exit with how learning went.
 */
export function refuseUnverified(profile: Profile, format: RenderFormat, name: string): PermlearnError | undefined {
  if (profile.verified || format === 'json') return undefined;
  return new PermlearnError('usage', `${name} did not verify (${profile.status}): its grants are incomplete, so only --format json renders it`);
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
