// Keeping track of every process group permlearn starts, so none outlives it.
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { shellQuote } from '../model/profile.js';

const live = new Set<number>();
const cleanups = new Set<() => void>();

/** Something to undo (a temp folder) if permlearn is stopped before it can clean up itself. */
export function onAbort(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function trackGroup(pid: number): void {
  live.add(pid);
  tellWatchdog(`+${pid}`);
}

export function untrackGroup(pid: number): void {
  if (live.delete(pid)) tellWatchdog(`-${pid}`);
}

/**
 * Start a command in a process group of its own that the watchdog knows of before the command runs.
 * A group is told to the watchdog once its pid is known, after the exec: a permlearn killed in between
 * (a few milliseconds, far more on a loaded machine) left the command running with nobody to stop it.
 * So on Linux and macOS a shell holds the place first: it waits for one line on an extra descriptor
 * (the one after `stdio`), which permlearn writes once the group is tracked, closes it and execs the
 * command, same pid, arguments and environment. If permlearn dies first, the shell reads the end of the
 * pipe and exits without running anything. A command that cannot be found is spawned as it is, so
 * Node reports it (ENOENT, EACCES) as before: nothing starts that would need stopping.
 */
export function spawnGroup(file: string, args: readonly string[], options: SpawnOptions & { stdio: StdioOptions }): ChildProcess {
  const { child, release } = spawnHeld(file, args, options);
  if (child.pid !== undefined) trackGroup(child.pid);
  release(true);
  return child;
}

/** The held start of spawnGroup(): `release(true)` lets the command run, `release(false)` (or permlearn's
 *  end) makes the shell exit without running it. Not held where it cannot be (see spawnGroup). */
export function spawnHeld(
  file: string,
  args: readonly string[],
  options: SpawnOptions & { stdio: StdioOptions },
): { child: ChildProcess; release: (run: boolean) => void } {
  const stdio = typeof options.stdio === 'string' ? [options.stdio, options.stdio, options.stdio] : [...options.stdio];
  if (!((process.platform === 'linux' || process.platform === 'darwin') && runnable(file, options)))
    return { child: spawn(file, args, { ...options, detached: true }), release: () => undefined };
  const gate = stdio.length;
  const child = spawn(holdingShell(), ['-c', heldScript(gate, options.env ?? process.env), file, ...args], {
    ...options,
    stdio: [...stdio, 'pipe'],
    detached: true,
  });
  const held = child.stdio[gate] as NodeJS.WritableStream | null;
  held?.on('error', () => undefined);
  return { child, release: (run) => held?.end(run ? '\n' : '') };
}

let shell: string | undefined;

/** dash where there is one (it gives the environment back exactly), else the system's sh: bash as sh
 *  still counts SHLVL down at the exec and sets `_` to the command's path. */
function holdingShell(): string {
  return (shell ??= existsSync('/bin/dash') ? '/bin/dash' : '/bin/sh');
}

/** The variables a shell sets for itself, and the one it reads the line into: given back as they were
 *  (or unset) before the exec. */
const SHELL_OWN = ['PWD', 'SHLVL', '_', 'PERMLEARN_HELD'];

/** The holding shell's script: wait for the line on `fd` (exit 125 at the pipe's end), close it, put
 *  back what the shell changed in the environment, exec the command. */
export function heldScript(fd: number, env: NodeJS.ProcessEnv): string {
  const restore = SHELL_OWN.map((name) => (env[name] === undefined ? `unset ${name}` : `export ${name}=${shellQuote(env[name])}`));
  return [`IFS= read -r PERMLEARN_HELD <&${fd} || exit 125`, `exec ${fd}<&-`, ...restore, 'exec "$0" "$@"'].join('; ');
}

/** Would exec find `file` (a path from the cwd, or a name on the environment's PATH) and may it run it? */
function runnable(file: string, options: SpawnOptions): boolean {
  const cwd = typeof options.cwd === 'string' ? options.cwd : options.cwd ? options.cwd.pathname : process.cwd();
  const isExecutable = (candidate: string) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  if (file.includes('/')) return isExecutable(path.resolve(cwd, file));
  const PATH = (options.env ?? process.env).PATH ?? '';
  return PATH.split(path.delimiter).some((dir) => isExecutable(path.resolve(cwd, dir, file)));
}

/** A folder to remove if permlearn dies without cleaning up (SIGKILL); forget it once removed. */
export function guardFolder(dir: string): () => void {
  tellWatchdog(`d${dir}`);
  return () => tellWatchdog(`u${dir}`);
}

/*
 * The watchdog. Signal handlers cannot run when permlearn is killed with SIGKILL (or crashes hard),
 * and the app runs in process groups of its own, so nothing would stop it. So the first time
 * permlearn starts a process group it also starts a small detached Node process whose stdin is a
 * pipe from permlearn: permlearn writes to it each group it starts or stops and each folder to remove.
 * When permlearn is gone, for whatever reason, the kernel closes the pipe; the watchdog sees the end
 * of its input, kills what is still listed (every group, and every descendant of its leader) and
 * removes the listed folders, then exits. After a normal exit both lists are already empty. The
 * watchdog holds no other file descriptor of permlearn's and keeps nothing alive.
 */
const WATCHDOG = `
const fs = require('fs');
const groups = new Set(), dirs = new Set();
let buffer = '';
function children() {
  const map = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync('/proc/' + name + '/stat', 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(ppid, [...(map.get(ppid) || []), Number(name)]);
    } catch {}
  }
  return map;
}
function kill(pid) { try { process.kill(pid, 'SIGKILL'); } catch {} }
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  for (let i; (i = buffer.indexOf('\\n')) >= 0; buffer = buffer.slice(i + 1)) {
    const line = buffer.slice(0, i), arg = line.slice(1);
    if (line[0] === '+') groups.add(Number(arg));
    else if (line[0] === '-') groups.delete(Number(arg));
    else if (line[0] === 'd') dirs.add(arg);
    else if (line[0] === 'u') dirs.delete(arg);
  }
});
process.stdin.on('end', () => {
  let tree = new Map();
  try { if (groups.size) tree = children(); } catch {}
  for (const leader of groups) {
    const queue = [leader];
    while (queue.length) for (const child of tree.get(queue.shift()) || []) { kill(child); queue.push(child); }
    try { process.kill(-leader, 'SIGKILL'); } catch {}
  }
  for (const dir of dirs) try { fs.rmSync(dir, { recursive: true, force: true }); } catch {}
  process.exit(0);
});
`;

let watchdog: ChildProcess | undefined;
let watchdogNode = process.execPath;

/**
 * Run the watchdog, when it starts, on this Node binary instead of the one running permlearn (a no-op once
 * it runs). For a learn whose app runs on Node 22+ while permlearn runs on 20: a Node 20 process takes about
 * three times the CPU to start, and the watchdog starts beside the first run of the app.
 */
export function useWatchdogNode(binary: string): void {
  if (!watchdog) watchdogNode = binary;
}

function tellWatchdog(line: string): void {
  if (process.platform !== 'linux' && process.platform !== 'darwin') return;
  if (!watchdog) {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    watchdog = spawn(watchdogNode, ['-e', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
    watchdog.on('error', () => undefined);
    watchdog.stdin!.on('error', () => undefined);
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  }
  watchdog.stdin!.write(`${line}\n`);
}

/** Is any process of the group led by `pid` still there? */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids below `pid` in the process tree (Linux /proc; empty elsewhere). */
export function descendantsOf(pid: number): number[] {
  return descendantsByChildren(pid) ?? descendantsByScan(pid);
}

/**
 * The same from each thread's list of children (/proc/<pid>/task/<tid>/children): a few reads for a small
 * tree instead of one per process on the machine. A process that is gone has no descendants (they were
 * handed to init or a subreaper, which the scan cannot trace back either). Undefined where the kernel
 * keeps no such list.
 */
function descendantsByChildren(pid: number): number[] | undefined {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue; // gone (or not Linux: then the scan finds nothing either)
    }
    for (const task of tasks) {
      let list: string;
      try {
        list = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // The thread ended while we looked: nothing to list. A thread still there without a list: this kernel keeps none.
        if ((code === 'ENOENT' || code === 'ESRCH') && !existsSync(`/proc/${parent}/task/${task}`)) continue;
        return undefined;
      }
      for (const word of list.split(' ')) {
        const child = Number(word);
        if (word !== '' && Number.isInteger(child) && !out.includes(child)) {
          out.push(child);
          queue.push(child);
        }
      }
    }
  }
  return out;
}

/** The same from every process's parent (/proc/<pid>/stat), for a kernel without children lists. */
export function descendantsByScan(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name in parentheses, which may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Send a signal to a group and to every descendant of its leader (some leave the group). */
export function signalTree(pid: number, sig: NodeJS.Signals): void {
  for (const child of descendantsOf(pid)) signal(child, sig);
  signal(-pid, sig);
}

/**
 * Stop a group: SIGTERM, then SIGKILL for whatever is left after `graceMs`.
 * Resolves when nothing of the group is left (or after the SIGKILL). `leaderGone`, when given, resolves
 * as the leader's exit is seen: the group is looked at again then, not only every 25 ms.
 */
export async function stopGroup(pid: number, graceMs: number, leaderGone?: Promise<unknown>): Promise<void> {
  if (!groupAlive(pid) && descendantsOf(pid).length === 0) {
    untrackGroup(pid);
    return;
  }
  signalTree(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let wake: Promise<unknown> | undefined = leaderGone?.then(() => {
    wake = undefined;
  });
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) break;
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise((r) => (timer = setTimeout(r, 25)));
    await (wake ? Promise.race([tick, wake]) : tick);
    clearTimeout(timer);
  }
  if (groupAlive(pid) || descendantsOf(pid).length > 0) signalTree(pid, 'SIGKILL');
  untrackGroup(pid);
}

/** Synchronous last resort for exit and signal handlers: SIGKILL every group still tracked. */
export function killAllGroups(): void {
  for (const pid of live) signalTree(pid, 'SIGKILL');
  live.clear();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort on the way out
    }
  }
  cleanups.clear();
}
