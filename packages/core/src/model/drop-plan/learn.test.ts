// Drop-plan learning with a scripted runner: each test reads as "the timing run saw X, the drop run saw Y".
import { describe, expect, it } from 'vitest';
import type { Denial, PermissionName } from '../types.js';
import type { Grant } from '../grants.js';
import { capabilitiesOf, parseNodeVersion } from '../node-versions.js';
import type { LearnEvent, RunRequest, RunResult } from '../learn/index.js';
import { learnDropPlan, type DropPlanOptions } from './learn.js';

const APP = '/srv/app';
const READY = 1_000;
const DROP_FILE = '/tmp/session/drop';
const NODE26 = capabilitiesOf(parseNodeVersion('v26.10.0')!);
const NODE22 = capabilitiesOf(parseNodeVersion('v22.23.3')!);
const check = (permission: PermissionName, resource: string, time: number): Denial => ({
  permission,
  resource,
  code: 'ERR_ACCESS_DENIED',
  source: 'channel',
  cwd: APP,
  time,
});
const read = (p: string, kind: Grant['kind'] = 'file'): Grant => ({ scope: 'fs.read', path: p, kind, notes: [], denials: [check('FileSystemRead', p, 1)] });
const config = read(`${APP}/config.json`);
const page = read(`${APP}/index.html`);
const child: Grant = { scope: 'child', denials: [check('ChildProcess', '', 5)], notes: [] };

const ready = (extra: Partial<RunResult> = {}): RunResult => ({
  outcome: 'ready',
  readyTime: READY,
  denials: [],
  recorderLoaded: true,
  stderrDenials: [],
  stderrTail: '',
  durationMs: 5,
  ...extra,
});
/** A drop run whose recorder applied the drops at `time`. */
const dropped = (denials: Denial[] = [], extra: Partial<RunResult> = {}): RunResult => ready({ dropped: { time: 1_100, applied: 1 }, denials, ...extra });

async function go(steps: RunResult[], opts: Partial<DropPlanOptions> = {}) {
  const requests: RunRequest[] = [];
  const events: LearnEvent[] = [];
  const runApp = async (req: RunRequest): Promise<RunResult> => {
    requests.push(req);
    const step = steps[requests.length - 1];
    if (!step) throw new Error(`run ${requests.length} was not scripted`);
    return step;
  };
  const plan = await learnDropPlan({
    caps: NODE26,
    runApp,
    hasReadiness: true,
    dropFile: DROP_FILE,
    firstRun: 3,
    grants: [config, page, child],
    verified: true,
    exercised: false,
    onEvent: (e) => events.push(e),
    ...opts,
  });
  return { plan, requests, events };
}

const timing = ready({
  denials: [check('FileSystemRead', `${APP}/config.json`, 10), check('ChildProcess', '', 20), check('FileSystemRead', `${APP}/index.html`, 1_500)],
});

describe('learnDropPlan', () => {
  it('drops what only start-up used, verifies it with one drop run, and numbers its runs after the learn runs', async () => {
    const { plan, requests, events } = await go([timing, dropped()]);
    expect(plan.verified).toBe(true);
    expect(plan.runs).toBe(2);
    expect(plan.drops.map((d) => d.flag)).toEqual([`--allow-fs-read=${APP}/config.json`, '--allow-child-process']);
    expect(plan.keep).toEqual([
      { flag: `--allow-fs-read=${APP}/index.html`, reason: 'used-while-serving', resources: [`${APP}/index.html`], lastAfterMs: 500 },
    ]);
    expect(requests.map((r) => [r.run, r.phase, r.drops])).toEqual([
      [4, 'drop-timing', undefined],
      [5, 'drop-verify', [{ scope: 'fs.read', reference: `${APP}/config.json` }, { scope: 'child' }]],
    ]);
    // The events say audit and verify, as the learn loop's runs do.
    expect(events.filter((e) => e.type === 'run-start')).toEqual([
      { type: 'run-start', run: 4, phase: 'audit', grants: 3 },
      { type: 'run-start', run: 5, phase: 'verify', grants: 3 },
    ]);
  });

  it('a drop that caused a denial after the drops goes back to the kept grants, and the rest is verified again', async () => {
    const { plan, requests } = await go([
      timing,
      dropped([check('FileSystemRead', `${APP}/config.json`, 1_200)], { outcome: 'exited', exitCode: 1 }),
      dropped(),
    ]);
    expect(plan.verified).toBe(true);
    expect(plan.runs).toBe(3);
    expect(plan.drops.map((d) => d.flag)).toEqual(['--allow-child-process']);
    expect(plan.keep).toContainEqual({ flag: `--allow-fs-read=${APP}/config.json`, reason: 'broke-when-dropped' });
    expect(requests[2]!.drops).toEqual([{ scope: 'child' }]);
  });

  it("ignores what came before the drops and the recorder's own drop file", async () => {
    const { plan } = await go([timing, dropped([check('FileSystemRead', `${APP}/config.json`, 1_050), check('FileSystemRead', DROP_FILE, 1_200)])]);
    expect(plan.verified).toBe(true);
    expect(plan.runs).toBe(2);
  });

  it('a denial no single drop explains leaves the plan unverified, saying why', async () => {
    const { plan } = await go([timing, dropped([check('FileSystemRead', `${APP}/other.json`, 1_200)])]);
    expect(plan.verified).toBe(false);
    expect(plan.notes).toEqual([
      `the app was denied FileSystemRead ${APP}/other.json after the drops, and no single drop explains it; the plan is not verified`,
    ]);
  });

  it('drops the recorder never applied, or that failed to apply, leave the plan unverified', async () => {
    const never = await go([timing, ready({ outcome: 'exited', exitCode: 1 })]);
    expect(never.plan.notes).toEqual(['the recorder never applied the drops (the app exited with code 1); the plan is not verified']);
    const failed = await go([timing, dropped([], { dropped: { time: 1_100, applied: 0, error: 'boom' } })]);
    expect(failed.plan.notes).toEqual(['applying the drops failed in the app: boom; the plan is not verified']);
  });

  it('gives up after three drop runs that each break a different drop', async () => {
    const grants = [read(`${APP}/a`), read(`${APP}/b`), read(`${APP}/c`), read(`${APP}/d`)];
    const t = ready({ denials: grants.map((g, i) => check('FileSystemRead', g.path!, 10 + i)) });
    const breaks = (p: string) => dropped([check('FileSystemRead', p, 1_200)], { outcome: 'exited', exitCode: 1 });
    const { plan } = await go([t, breaks(`${APP}/a`), breaks(`${APP}/b`), breaks(`${APP}/c`)], { grants });
    expect(plan.verified).toBe(false);
    expect(plan.runs).toBe(4);
    expect(plan.drops.map((d) => d.flag)).toEqual([`--allow-fs-read=${APP}/d`]);
    expect(plan.notes).toEqual(['still failing after 3 verification runs; the plan is not verified']);
  });

  it('a timing run that never became ready makes no plan', async () => {
    const { plan } = await go([ready({ outcome: 'timeout' })]);
    expect(plan).toMatchObject({
      drops: [],
      verified: false,
      runs: 1,
      notes: ['the timing run (audit mode) neither exited nor became ready in time, so no drop plan was made'],
    });
  });

  it.each([
    ['Node without drop()', { caps: NODE22 }, 'Node v22.23.3 has no process.permission.drop() (it arrived in Node 24): no drop plan'],
    ['an unverified profile', { verified: false }, 'the profile did not verify, so no drop plan was made'],
    [
      'no readiness signal',
      { hasReadiness: false },
      'a drop plan needs a moment when start-up is over: pass --ready-stdout, --ready-port, --ready-url or --timeout',
    ],
  ] as const)('runs nothing for %s', async (_name, opts, note) => {
    const { plan, requests } = await go([], opts);
    expect(requests).toEqual([]);
    expect(plan).toEqual({ drops: [], keep: [], verified: false, exercised: false, notes: [note], runs: 0 });
  });
});
