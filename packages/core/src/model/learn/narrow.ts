// A folder granted for a check of its own path reads its whole subtree: Node has no grant for a
// folder's own entry alone. Resolvers that follow symbolic links (enhanced-resolve, under webpack and
// Tailwind) readlink or stat every folder on the way to a file, the project folder included, and
// pass the error on to a catch far up the stack (or to a callback that ignores it), so nothing at the
// call site shows the check is optional. When every check of the folder's own path was such a
// metadata call (not a listing), the grant is tried narrowed when tightening: the folder's own checks
// become a candidate of their own, and what was read inside it is granted as it would have been
// without them (`src`, `node_modules`). The verification decides, as for any candidate; a folder whose
// narrowing failed once is never narrowed again in the same learn.
import type { Denial } from '../types.js';
import { GrantSet, findCovering, normaliseGrants, type Grant } from '../grants.js';
import { isStrictlyUnder, resourcePath } from '../paths/index.js';
import { isFolderMetadataCheck } from '../tighten.js';
import { planStep, type PlanOptions } from './plan-step.js';

export interface Narrowed {
  /** The grants with each narrowed folder replaced by what was read inside it. */
  grants: Grant[];
  /** Each narrowed folder, with only its own checks as evidence: a candidate. */
  wide: Grant[];
}

/**
 * Narrow every read grant of an existing folder that is there for metadata checks of the folder's own
 * path, unless `tried` already holds it. A folder stays as it is when anything read inside it could
 * not be granted on its own below it (refused, a created folder, a grant that would reach the folder), and
 * when a run saw the app list it (`listed`): the recorder reports each check once, with the call that made
 * it first, so a stat followed by a readdir shows only the stat; the listing is reported on its own.
 */
export function narrowFolders(grants: readonly Grant[], opts: PlanOptions, tried: ReadonlySet<string>, listed: ReadonlySet<string> = new Set()): Narrowed {
  let current = [...grants];
  const wide: Grant[] = [];
  for (const g of grants) {
    if (g.scope !== 'fs.read' || g.kind !== 'dir' || g.path === undefined || tried.has(g.path) || listed.has(g.path)) continue;
    if (g.notes.some((n) => n.code === 'widened-for-node-quirk' || n.code === 'accepted-broad')) continue;
    const folder = g.path;
    const own = g.denials.filter((d) => resourcePath(d) === folder);
    if (own.length === 0 || !own.every((d) => isFolderMetadataCheck(d, folder))) continue;
    const others = current.filter((x) => x !== g);
    const inside = replan(
      g.denials.filter((d) => !own.includes(d)),
      others,
      folder,
      opts,
    );
    if (!inside) continue;
    current = normaliseGrants([...others, ...inside]);
    wide.push({ ...g, denials: own, notes: [] });
  }
  return { grants: current, wide };
}

/** The grants the denials inside `folder` need besides `others`, or undefined when one cannot be had below it. */
function replan(inside: readonly Denial[], others: readonly Grant[], folder: string, opts: PlanOptions): Grant[] | undefined {
  const added: Grant[] = [];
  for (const d of inside) {
    const set = GrantSet.view([...others, ...added]);
    const target = resourcePath(d);
    const covering = findCovering(set, 'fs.read', target);
    if (covering) {
      if (added.includes(covering)) covering.denials.push(d);
      continue;
    }
    const step = planStep(d, set, opts, 0);
    if (step.type !== 'add' || step.grant.path === undefined || !isStrictlyUnder(step.grant.path, folder)) return undefined;
    added.push({ ...step.grant, denials: [...step.grant.denials], notes: [...step.grant.notes] });
  }
  return added;
}
