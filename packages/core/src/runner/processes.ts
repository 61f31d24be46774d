// Keeping track of every process group permlearn starts, so none outlives it.
import { readdirSync, readFileSync } from 'node:fs';

const live = new Set<number>();
const cleanups = new Set<() => void>();

/** Something to undo (a temp folder) if permlearn is stopped before it can clean up itself. */
export function onAbort(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function trackGroup(pid: number): void {
  live.add(pid);
}

export function untrackGroup(pid: number): void {
  live.delete(pid);
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
 * Resolves when nothing of the group is left (or after the SIGKILL).
 */
export async function stopGroup(pid: number, graceMs: number): Promise<void> {
  if (!groupAlive(pid) && descendantsOf(pid).length === 0) {
    untrackGroup(pid);
    return;
  }
  signalTree(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) break;
    await new Promise((r) => setTimeout(r, 25));
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
