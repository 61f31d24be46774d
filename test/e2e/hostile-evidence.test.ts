// A grant needs evidence that Node produced. Each hostile fixture forges denials of `/` (and of write
// `/`, child processes, addons) through one channel: its own lines on the recorder's fd, report files
// in the events folder, objects it logs or throws, messages it publishes on the permission-model
// channels, text printed by a start command that runs no Node. permlearn runs on a fresh copy; the
// profile must hold exactly the grants the app's genuine accesses asked for, and the copy is unchanged.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { leftoverProcesses, copyFixture, nodeBinary, removeCopies, runCli, type ProfileJson } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

/** Every file of a folder with its content, to show nothing was changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const file = path.join(d, name);
      if (statSync(file).isDirectory()) walk(file);
      else out[path.relative(dir, file)] = readFileSync(file, 'utf8');
    }
  };
  walk(dir);
  return out;
}

interface Case {
  fixture: string;
  majors: number[];
  /** `permlearn run -- <command>` instead of an entry file. */
  command?: string[];
  exitCode: number;
  /** The profile's flags, after the enable flag; `D` stands for the fixture copy. */
  flags: (major: number) => string[];
  status: string;
  /** A warning the profile must carry about the ignored evidence. */
  warning?: RegExp;
}

const entry20 = (m: number) => (m === 20 ? ['--allow-fs-read=D/index.js'] : []);

const cases: Case[] = [
  {
    fixture: 'hostile/fd-line',
    majors: [20, 22, 26],
    exitCode: 0,
    flags: (m) => ['--allow-fs-read=D/config.json', ...entry20(m)],
    status: 'verified',
    warning: /^\d+ lines on the recorder channel were not written by the recorder \(ignored\)$/,
  },
  {
    fixture: 'hostile/events-file',
    majors: [20, 22, 26],
    exitCode: 0,
    flags: (m) => ['--allow-fs-read=D/config.json', ...entry20(m), '--allow-child-process'],
    status: 'verified',
    warning: /^\d+ files? in the events folder (was|were) not written by a recorder \(ignored\)$/,
  },
  {
    // The genuine denial it caught and printed (/etc/hostname) is a real access, and granted.
    fixture: 'hostile/logged-object',
    majors: [20, 22, 26],
    exitCode: 0,
    // The caught read of /etc/hostname is left out: the first run sees it caught (observe on 20/22), and
    // on 26, where the audit run allows it, its call site is inside a try with a catch.
    flags: (m) => ['--allow-fs-read=D/config.json', ...entry20(m)],
    status: 'verified',
  },
  {
    fixture: 'hostile/thrown-error',
    majors: [20, 22, 26],
    exitCode: 3,
    flags: (m) => ['--allow-fs-read=D/config.json', ...entry20(m)],
    status: 'app-failed',
  },
  {
    // Node publishes its checks from 24 on; before, the recorder subscribes all the same.
    fixture: 'hostile/channel-publish',
    majors: [22, 24, 26],
    exitCode: 0,
    flags: () => ['--allow-fs-read=D/config.json'],
    status: 'verified',
  },
  {
    fixture: 'hostile/worker-key',
    majors: [20, 22, 24, 26],
    exitCode: 0,
    flags: (m) =>
      m === 20
        ? ['--allow-fs-read=D/index.js', '--allow-fs-read=D/worker.js', '--allow-worker']
        : m === 22
          ? ['--allow-fs-read=D/worker.js', '--allow-worker']
          : ['--allow-worker'],
    status: 'verified',
    // One recorder run (the observing run; the verification run has no recorder).
    warning: /^1 line on the recorder channel was not written by the recorder \(ignored\)$/,
  },
  {
    fixture: 'hostile/flood',
    majors: [22, 26],
    exitCode: 0,
    flags: () => ['--allow-fs-read=D/config.json'],
    status: 'verified',
    warning: /^\d+ lines on the recorder channel were not written by the recorder \(ignored\)$/,
  },
  {
    fixture: 'hostile/start-sh',
    majors: [22, 26],
    command: ['./start.sh'],
    exitCode: 3,
    flags: () => [],
    status: 'app-failed',
  },
];

describe('forged evidence never becomes a grant', () => {
  it.each(cases.flatMap((c) => c.majors.map((major) => [c.fixture, major, c] as const)))('%s on Node %i', async (_name, major, c) => {
    const dir = copyFixture(c.fixture);
    const before = snapshot(dir);
    const args = c.command
      ? ['run', '--node', nodeBinary(major), '--format', 'json', '--', ...c.command]
      : ['--node', nodeBinary(major), '--format', 'json', 'index.js'];
    const r = await runCli(args, { cwd: dir });
    const stderr = String(r.stderr);
    expect(r.exitCode, stderr).toBe(c.exitCode);
    const profile = JSON.parse(String(r.stdout)) as ProfileJson;
    const enable = major === 20 ? '--experimental-permission' : '--permission';
    expect(profile.flags).toEqual([enable, ...c.flags(major).map((f) => f.replace('=D/', `=${dir}/`))]);
    expect(profile.status).toBe(c.status);
    expect(profile.flags.join(' ')).not.toMatch(/=\/( |$)|=\/\*/);
    if (c.warning) expect(profile.warnings).toEqual(expect.arrayContaining([expect.stringMatching(c.warning)]));
    // No stack trace of permlearn's own (the app's stderr tail, shown on failure, is the app's).
    expect(stderr).not.toMatch(/internal error|at .*packages\/(core|cli)\//);
    expect(snapshot(dir)).toEqual(before);
  });
});
