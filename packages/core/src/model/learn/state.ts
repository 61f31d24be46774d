// One learn's running state and its bookkeeping: the one place a run is counted, announced and kept
// as the last result, and the one place the result is assembled. Pure: running the app is injected.
import type { Denial } from '../types.js';
import { dedupeDenials, denialKey, permissionOfScope } from '../denials.js';
import { findCovering, GrantSet, grantKey, normaliseGrants, targetOf, type Grant } from '../grants.js';
import { acceptHint } from '../breadth.js';
import { mergeSetAside, vetDenials, type SetAside } from '../volatile.js';
import { SoftEvidence } from '../tighten.js';
import { fallbackGrants, isLoaderDenial } from '../fallback.js';
import type { LearnEvent, LearnOptions, LearnResult, LearnStatus, Phase, Refusal, RunResult, Tightened, Ungrantable } from './types.js';
import { isCoveredDenial, notGranted, preferPresent, selectDenials } from './candidates.js';
import { unacceptedBreadth } from './plan-step.js';

export class LearnState {
  readonly opts: LearnOptions;
  readonly emit: (event: LearnEvent) => void;
  grants: Grant[];
  runs = 0;
  last: RunResult | undefined;
  /** Workers started outside the permission model, in any run (by call site). */
  unbound: NonNullable<RunResult['unbound']> = [];
  /** Working folders a run's process could read that none of its grants cover: Node's own grant. */
  readonly nodeOpened = new Set<string>();
  readonly observed: Denial[] = [];
  readonly ungrantable: Ungrantable[] = [];
  readonly refused: Refusal[] = [];
  /** Lookups of missing paths the first runs saw (config-file searches): not granted up front, but when
   *  one of them turns out to be needed, the others from the same call site come with it. */
  readonly lookups: Denial[] = [];
  readonly setAside: SetAside[] = [];
  /** Tightening (tighten.ts): which evidence shows no need, and what the candidates came to. */
  readonly tight: boolean;
  readonly soft = new SoftEvidence();
  tightened: Tightened | undefined;
  /** Grants a folded verification left out once (grantKey): a later fold keeps them. */
  readonly foldedOut = new Set<string>();
  /** Candidates a folded verification left out: put back if the app then fails with nothing to learn. */
  pending: Grant[] = [];
  /** A priming run saw something its grants cannot hold (addon-read.ts addonReadUnplanned): a failed
   *  folded verification is then not known to be the candidates' doing. */
  primingGap = false;
  /** The last priming run ran to the end: its evidence is complete, so a fold can verify. */
  primedComplete = false;
  /** Folders tried narrowed once (narrow.ts): never narrowed again in this learn. */
  readonly narrowTried = new Set<string>();
  /** Folders any run saw the app list (readdir, opendir): their own checks are not metadata alone. */
  readonly listed = new Set<string>();
  /** Grants set aside as a loader's fallback path (fallback.ts), until a run shows one is needed. */
  fallbackAside: Grant[] = [];
  delivery: 'node-options' | undefined;

  constructor(opts: LearnOptions) {
    this.opts = opts;
    this.emit = opts.onEvent ?? (() => {});
    this.grants = normaliseGrants(opts.initialGrants ?? []);
    this.tight = opts.tighten === true;
  }

  /** Run the app once: count it, announce it, keep its result as the last one. */
  async run(phase: Phase, grants: Grant[], extraGrants: Grant[] = []): Promise<RunResult> {
    const run = ++this.runs;
    this.emit({ type: 'run-start', run, phase, grants: grants.length });
    const result = await this.opts.runApp({ run, phase, grants, ...(extraGrants.length ? { extraGrants } : {}) });
    this.last = result;
    for (const f of result.listed ?? []) this.listed.add(f);
    for (const u of result.unbound ?? []) if (!this.unbound.some((x) => x.site === u.site)) this.unbound.push(u);
    for (const dir of result.openCwd ?? []) if (!findCovering([...grants, ...extraGrants], 'fs.read', dir)) this.nodeOpened.add(dir);
    this.emit({ type: 'run-end', run, phase, result });
    return result;
  }

  refuse(r: Refusal): void {
    if (!this.refused.some((x) => x.violation.value === r.violation.value && x.denial.permission === r.denial.permission)) this.refused.push(r);
  }

  /** Volatile paths and permlearn's own are taken out before planning; a stable form keeps a note. */
  vet(denials: Denial[], optional: boolean): ReturnType<typeof vetDenials> {
    const v = vetDenials(denials, this.opts.volatile, optional);
    this.setAside.push(...v.setAside);
    return v;
  }

  noteStable(grant: Grant, denial: Denial, restated: Map<Denial, string>): void {
    const why = restated.get(denial);
    if (why && !grant.notes.some((n) => n.detail === why)) grant.notes.push({ code: 'stable-form', detail: why });
  }

  /** A loader was just learned: the grants of its fallback path (fallback.ts) are set aside. */
  setAsideFallback(now: Grant[], from: ReadonlySet<string>, result: RunResult): Grant[] {
    const learnedLoader = now.some((g) => !from.has(grantKey(g)) && (g.scope === 'addon' || g.scope === 'wasi') && g.denials.some(isLoaderDenial));
    if (!learnedLoader) return now;
    const added = now.filter((g) => !from.has(grantKey(g)));
    const found = fallbackGrants(added, result.denials);
    if (found.grants.length === 0 || !found.trigger) return now;
    const drop = new Set(found.grants.map(grantKey));
    this.fallbackAside.push(...found.grants);
    this.emit({ type: 'set-aside', run: this.runs, grants: found.grants, because: found.trigger });
    return now.filter((g) => !drop.has(grantKey(g)));
  }

  /** A run was denied something a set-aside grant covers: the app needs that path after all, so all of them come back. */
  restoreIfNeeded(result: RunResult): boolean {
    if (this.fallbackAside.length === 0) return false;
    const index = GrantSet.view(this.fallbackAside);
    // Only what the run is acted on counts: a loader that fell back again for another reason (its
    // addon file denied) repeats the set-aside lookups without needing them.
    if (!preferPresent(selectDenials(result), this.opts.fs).some((d) => isCoveredDenial(d, index))) return false;
    const back = this.fallbackAside;
    this.fallbackAside = [];
    this.grants = normaliseGrants([...this.grants, ...back]);
    this.emit({ type: 'restored', run: this.runs, grants: back });
    return true;
  }

  /** A run showed a Node child without some of the command line's flags: from now on they go in NODE_OPTIONS. */
  switchDelivery(because: string): boolean {
    if (this.delivery !== undefined || this.opts.deliverViaNodeOptions?.() !== true) return false;
    this.delivery = 'node-options';
    this.emit({ type: 'delivery', run: this.runs, delivery: this.delivery, because });
    return true;
  }

  /** Candidates left out: their evidence is reported as what the app got by without. */
  leaveOut(removed: Grant[]): void {
    for (const g of removed) for (const d of g.denials) if (d.site !== undefined || d.source === 'loaded') this.observed.push(d);
  }

  /** Whatever produced them (initial grants, a promotion, a merge of evidence), no grant that breaks the
   *  breadth rule is verified or returned. */
  breadthBreach(): LearnResult | undefined {
    const breach = this.grants.map((g) => ({ g, v: unacceptedBreadth(g, this.opts) })).find((x) => x.v !== undefined);
    if (!breach) return undefined;
    const d = breach.g.denials[0] ?? {
      permission: permissionOfScope(breach.g.scope),
      resource: breach.g.path ?? '',
      code: 'ERR_ACCESS_DENIED',
      source: 'uncaught' as const,
    };
    this.refuse({
      denial: d,
      grant: targetOf(breach.g),
      violation: breach.v!,
    });
    this.grants = this.grants.filter((g) => g !== breach.g);
    return this.done('too-broad', `the grant ${breach.v!.value} breaks the breadth rule: ${breach.v!.reason}; ${acceptHint(breach.v!)}`);
  }

  done(status: LearnStatus, reason?: string): LearnResult {
    const { grants, refused, setAside } = this;
    return {
      status,
      grants,
      runs: this.runs,
      ...(this.delivery ? { delivery: this.delivery } : {}),
      ...(this.tightened ? { tightened: this.tightened } : {}),
      // What was refused is reported as such, not as something the app got by without; so is what was set aside.
      observed: notGranted(dedupeDenials(this.observed), grants).filter(
        (d) =>
          !refused.some((r) => denialKey(r.denial) === denialKey(d)) &&
          !setAside.some((s) => s.denial.resource === d.resource && s.denial.permission === d.permission),
      ),
      ungrantable: this.ungrantable,
      refused,
      ...(reason ? { reason } : {}),
      ...(this.last ? { last: this.last } : {}),
      ...(this.unbound.length ? { unbound: this.unbound } : {}),
      ...(this.nodeOpened.size ? { nodeOpened: [...this.nodeOpened] } : {}),
      setAside: mergeSetAside(setAside),
    };
  }
}
