// A learning session's private temporary folder, holding the recorder permlearn preloads.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import type { FsProbe } from '../model/types.js';

/** The fd the recorder writes to; permlearn opens it as a pipe in every learning run. */
export const RECORDER_FD = 3;

const RECORDER_SOURCE = fileURLToPath(new URL('../../recorder/recorder.cjs', import.meta.url));

export interface Session {
  dir: string;
  recorderPath: string;
  /** Where Node children of the app write their reports. */
  eventsDir: string;
  dispose(): void;
}

export interface SessionOptions {
  /** Have the recorder work out the package.json files the resolver checks (observe runs need them). */
  probes?: boolean;
}

export function createSession(options: SessionOptions = {}): Session {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'permlearn-'));
  const recorderPath = path.join(dir, 'recorder.cjs');
  const eventsDir = path.join(dir, 'events');
  mkdirSync(eventsDir);
  const config = { fd: RECORDER_FD, ownerPid: process.pid, eventsDir, probes: options.probes === true };
  writeFileSync(recorderPath, `const PERMLEARN_CONFIG = ${JSON.stringify(config)};\n${readFileSync(RECORDER_SOURCE, 'utf8')}`);
  return {
    dir,
    recorderPath,
    eventsDir,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The real file-system probe the pure core asks. */
export const realFs: FsProbe = {
  kind(absPath) {
    try {
      return statSync(absPath).isDirectory() ? 'dir' : 'file';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'file';
    }
  },
  homedir: os.homedir(),
};
