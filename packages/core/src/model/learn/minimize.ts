// `--minimize`: after verification, try the app without each grant (or a widened one narrowed back).
import type { FsProbe } from '../types.js';
import type { Capabilities } from '../node-versions.js';
import { needOf } from '../denials.js';
import { grantKey, isFsScope, normaliseGrants, type Grant } from '../grants.js';
import { initialKind } from '../initial-state.js';
import type { Minimized } from './types.js';
import { startedCleanly } from './outcome.js';
import type { LearnState } from './state.js';

/** A widened grant is tried narrowed back to its files only when they are at most this many. */
export const MAX_NARROWED = 3;

/** The exact grants a widened grant stands for: one per resource of its evidence. */
function narrowedGrants(g: Grant, fs: FsProbe, caps: Capabilities): Grant[] {
  const out: Grant[] = [];
  for (const d of g.denials) {
    const need = needOf(d, caps);
    if (need.type !== 'fs' || need.prefix || !isFsScope(g.scope)) continue;
    out.push({ scope: g.scope, path: need.path, kind: initialKind(fs, need.path), denials: [d], notes: [] });
  }
  return normaliseGrants(out);
}

/**
 * `--minimize`: one grant at a time, try the app without it; a widened grant it cannot do without is
 * tried narrowed back to the files of its evidence. Every change is kept only if the app still starts
 * cleanly. Bounded by the run budget; what was not tried is reported.
 */
export async function minimizeGrants(s: LearnState, start: Grant[]) {
  const { opts, emit } = s;
  let grants = [...start];
  const minimized: Minimized = { removed: [], narrowed: [], untried: [] };
  // Riskiest first: capabilities, then writes, then reads, widest first.
  const rank = (g: Grant) => (g.path === undefined ? 0 : g.scope === 'fs.write' ? 1 : 2);
  const order = [...start].sort((a, b) => rank(a) - rank(b) || Number(b.kind === 'dir') - Number(a.kind === 'dir'));
  const attempt = async (candidate: Grant[]): Promise<boolean> => startedCleanly(await s.run('minimize', candidate));
  for (const g of order) {
    if (s.runs >= opts.maxRuns) {
      minimized.untried.push(g);
      continue;
    }
    const without = grants.filter((x) => grantKey(x) !== grantKey(g));
    if (await attempt(without)) {
      grants = without;
      minimized.removed.push(g);
      emit({ type: 'minimized', run: s.runs, grant: g, outcome: 'removed' });
      continue;
    }
    const narrow = g.notes.some((n) => n.code === 'generalised') ? narrowedGrants(g, opts.fs, opts.caps) : [];
    // Narrowing trades one flag for several: worth it for a few files, not for a dependency tree.
    if (narrow.length > 0 && narrow.length <= MAX_NARROWED && s.runs < opts.maxRuns) {
      const candidate = normaliseGrants([...without, ...narrow]);
      if (await attempt(candidate)) {
        grants = candidate;
        minimized.narrowed.push({ from: g, to: narrow });
        emit({ type: 'minimized', run: s.runs, grant: g, outcome: 'narrowed', to: narrow });
        continue;
      }
    }
    emit({ type: 'minimized', run: s.runs, grant: g, outcome: 'kept' });
  }
  const changed = minimized.removed.length > 0 || minimized.narrowed.length > 0;
  return { grants, minimized, changed };
}
