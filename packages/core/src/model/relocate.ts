// Moving a profile learned in one checkout to another: a committed profile holds the absolute paths
// of the machine it was learned on, and comparing or merging it with a run here needs them here.
// The project (a root folder, the cwd somewhere inside it) moves as a whole; paths outside it stay.
import path from 'node:path';
import { movePath, projectRootOf, relativePath, renderGrantPath, resolveResource, type Layout } from './paths/index.js';
import type { GrantTarget } from './grants.js';
import type { Profile, ProfileGrant } from './profile.js';
import type { Denial } from './types.js';
import { FLAG_OF_SCOPE } from './node-versions.js';
import { fsScopeOf } from './denials.js';

/** A `file:line:col` call site moved like a path. */
function moveSite(site: string, fromRoot: string, toRoot: string): string {
  return site.startsWith('/') ? movePath(site, fromRoot, toRoot) : site;
}

function moveDenial(d: Denial, fromCwd: string, fromRoot: string, toRoot: string): Denial {
  const out: Denial = { ...d };
  if (fsScopeOf(d.permission) && d.resource !== '') {
    // A relative resource was relative to the cwd at the time of the call: make it absolute first.
    out.resource = movePath(resolveResource(d.resource, d.cwd ?? fromCwd), fromRoot, toRoot);
  }
  if (d.cwd !== undefined) out.cwd = movePath(d.cwd, fromRoot, toRoot);
  if (d.site !== undefined) out.site = moveSite(d.site, fromRoot, toRoot);
  return out;
}

/**
 * The profile as if learned in `to.cwd`: every path of its project (grants, evidence, cwd, entry, root)
 * moved to `to.root`. The flags are rendered again from the moved grants, with the profile's enable flag.
 */
export function relocateProfile(profile: Profile, to: Layout): Profile {
  const fromRoot = projectRootOf(profile.cwd, to);
  const toRoot = path.resolve(to.root);
  const move = (p: string) => movePath(p, fromRoot, toRoot);
  const denial = (d: Denial) => moveDenial(d, profile.cwd, fromRoot, toRoot);
  const grants: ProfileGrant[] = profile.grants.map((g) => {
    const out: ProfileGrant = { ...g, denials: g.denials.map(denial) };
    if (g.path !== undefined) {
      out.path = move(g.path);
      out.flag = `${FLAG_OF_SCOPE[g.scope]}=${renderGrantPath(out.path, g.kind)}`;
    }
    if (g.exposes) out.exposes = { ...g.exposes, secrets: g.exposes.secrets.map(move) };
    return out;
  });
  const enable = profile.flags[0] ?? '--permission';
  return {
    ...profile,
    cwd: move(profile.cwd),
    // A command profile's entry is the command line, not a path.
    entry: profile.command ? profile.entry : move(path.resolve(profile.cwd, profile.entry)),
    ...(profile.root !== undefined ? { root: move(profile.root) } : {}),
    flags: [enable, ...grants.map((g) => g.flag)],
    grants,
    observed: profile.observed.map(denial),
    ungrantable: profile.ungrantable.map((u) => ({ ...u, denial: denial(u.denial) })),
  };
}

/** A path for people: `./x` under the cwd, `../x` elsewhere in the project, else absolute. */
export function displayPath(p: string, layout: Layout): string {
  return relativePath(p, layout, { dotSlash: true }) ?? p;
}

/** A grant as a flag for people, with `displayPath`. */
export function displayFlag(g: GrantTarget, layout: Layout): string {
  const flag = FLAG_OF_SCOPE[g.scope];
  return g.path === undefined ? flag : `${flag}=${renderGrantPath(displayPath(g.path, layout), g.kind)}`;
}
