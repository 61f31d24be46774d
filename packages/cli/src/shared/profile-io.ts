// Reading a saved profile from disk for explain, render, merge and check: the file must be a regular
// file of sane size, and its text must pass core's schema (parseProfile). The breadth rule (core's
// breadth.ts) is applied where a profile is rendered, with what the user accepted; explain marks it.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_PROFILE_BYTES, PermlearnError, ProfileError, breadthViolation, parseProfile, renderGrantFlag, type Profile } from '@permlearn/core';

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
export function readProfileFile(file: string): Profile {
  return parseProfile(readProfileText(file), file);
}

/** The profile and the text it was read from (to replace the file only while it still holds that: check --write). */
export function readProfileWithText(file: string): { profile: Profile; text: string } {
  const text = readProfileText(file);
  return { profile: parseProfile(text, file), text };
}
