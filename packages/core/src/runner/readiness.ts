// When a run's app is ready: the signals a run can wait for (a stdout line, a port, a 2xx answer, being
// alive after a while), watched with timers and polls, and the time limit. run-app.ts settles on the first.
import net from 'node:net';
import type { ReadyBy } from '../model/learn/index.js';
import type { AppSpec, Readiness } from './run-app.js';

const POLL_MS = 100;

/** The readiness signals a run waits for, in words, for the reason a run that timed out gives. */
export function awaited(r: Readiness): string | undefined {
  const signals = [
    r.stdout ? `stdout line matching ${String(r.stdout)}` : '',
    r.port !== undefined ? `connection on port ${r.port}` : '',
    r.url !== undefined ? `2xx answer from ${r.url}` : '',
  ].filter(Boolean);
  return signals.length ? signals.join(' or ') : undefined;
}

function tryConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export async function portAccepting(port: number): Promise<boolean> {
  return (await tryConnect(port, '127.0.0.1')) || (await tryConnect(port, '::1'));
}

async function urlReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}

/**
 * Start the time limit and the timed readiness signals of `spec` (alive after a while, port, URL):
 * `on.ready(by)` or `on.timeout()` is called as each fires; polls stop once `on.finished()`. Returns
 * the timers, for the caller to clear.
 */
export function startReadinessTimers(spec: AppSpec, on: { ready(by: ReadyBy): void; timeout(): void; finished(): boolean }): NodeJS.Timeout[] {
  const timers: NodeJS.Timeout[] = [];
  timers.push(setTimeout(() => on.timeout(), spec.maxRunMs));
  if (spec.readiness.aliveAfterMs !== undefined) timers.push(setTimeout(() => on.ready('timeout'), spec.readiness.aliveAfterMs));
  const { port, url } = spec.readiness;
  if (port !== undefined || url !== undefined) {
    let polling = false;
    timers.push(
      setInterval(async () => {
        if (polling || on.finished()) return;
        polling = true;
        try {
          if (port !== undefined && (await portAccepting(port))) on.ready('port');
          else if (url !== undefined && (await urlReady(url))) on.ready('url');
        } finally {
          polling = false;
        }
      }, POLL_MS),
    );
  }
  return timers;
}
