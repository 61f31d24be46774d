// The learned profile as data, reading it back, and its simplest renderings (one shell line, JSON).
import type { Capabilities } from './node-versions.js';
import type { Denial, PathKind, Scope, Strategy } from './types.js';
import { findCovering, normaliseGrants, renderGrantFlag, renderFlags, withTarget, type Grant, type GrantNote } from './grants.js';
import type { ExerciseResult, LearnResult, LearnStatus, Refusal, Ungrantable } from './learn/index.js';
import { dedupeDenials } from './denials.js';
import type { Granularity } from './generalise.js';
import type { DropPlan } from './drop-plan/index.js';
import type { SetAside } from './volatile.js';
import { grantRisk } from './risks.js';
import { isSameOrUnder, resourcePath } from './paths/index.js';
import { describeTightened, type ProfileTightened } from './tightened.js';

export const PROFILE_SCHEMA = 1;

/** A grant as a profile holds it (its denials: each resource that led to it, once, with `hits` when seen
 *  more than once), with its flag and what is known about it. */
export type ProfileGrant = Grant & {
  /** The flag exactly as passed to node. */
  flag: string;
  /** Why this grant deserves a second look, if it does. */
  risk?: string;
  /** What the grant covers on disk today (file-system grants, when permlearn looked). */
  exposes?: Exposure;
};

/** What a file-system grant covers on disk: how many files, and which of them look like secrets. */
export interface Exposure {
  files: number;
  /** Absolute paths of secret-looking files in reach (`.env`, keys, credentials). */
  secrets: string[];
  /** Symbolic links through which the grant reaches outside the project, or back above itself. */
  links?: { link: string; target: string }[];
}

export interface Profile {
  permlearn: number;
  /** Node version the profile was learned and verified under. */
  node: string;
  entry: string;
  args: string[];
  cwd: string;
  /** argv to pass verbatim before the entry file. */
  flags: string[];
  grants: ProfileGrant[];
  runs: number;
  /** How it was learned: one of LEARN_STRATEGIES (types.ts), each described in its file in model/learn/strategies/;
   *  enforce runs confirm in every case. */
  strategy: Strategy;
  /** Which grants only start-up uses, to drop() once the app is ready (with --format drop-plan, Node 24+). */
  dropPlan?: DropPlan;
  /** `node-options`: the flags must reach the app in NODE_OPTIONS, not on the command line: a Node child
   *  of it is started with an execArgv rebuilt by its parent and keeps only what NODE_OPTIONS gives it. */
  delivery?: 'node-options';
  /** For `permlearn run`: the command whose Node processes were learned (the flags go in NODE_OPTIONS). */
  command?: string[];
  /** The exercise commands run once the app was ready, and how each went in the last run. */
  exercise?: { commands: string[]; results: ExerciseResult[] };
  /** What --minimize took out (flags as they were before): grants the app started without, widened
   *  grants narrowed back to their files, and grants left untried when the run budget ran out. */
  minimized?: { removed: string[]; narrowed: { from: string; to: string[] }[]; untried: string[] };
  /** What tightening (the default) left out: each grant the app started without, why its evidence
   *  showed no need and who asked; the candidates it needed, those left untried, and the trial runs. */
  tightened?: ProfileTightened;
  /** The project root (no grant reaches it or above) and the generalisation policy used. */
  root?: string;
  granularity?: Granularity;
  verified: boolean;
  status: LearnStatus;
  reason?: string;
  /** Denials the app survived without a grant (caught or probed), not granted. */
  observed: Denial[];
  ungrantable: Ungrantable[];
  /** What the app asked for that permlearn would not grant: it breaks the breadth rule (model/breadth.ts). */
  refused?: Refusal[];
  warnings: string[];
  /** Needs not granted (or put in a stable form) because their path changes from run to run or is
   *  permlearn's own; `optional` when the app got by without. */
  setAside?: Omit<SetAside, 'denial'>[];
  /** Variables and NODE_PATH/PATH entries permlearn's launcher had added, not passed to the app. */
  environment?: { removed: string[] };
  /** What learning did to the machine: the runs made and what they created and changed (and whether
   *  it was put back). */
  machine?: MachineChanges;
  /** Built from complain-mode records (permlearn --records): how many, over which period, in which
   *  modes, and what those modes could not see. */
  records?: RecordsSummary;
}

export interface RecordsSummary {
  files: number;
  /** Epoch ms of the first and last check recorded. */
  first?: number;
  last?: number;
  modes: string[];
  nodes: string[];
  /** Records cut off before their process ended (SIGKILL, a crash, still running). */
  cutOff: number;
  unseen: string[];
  /** Checks past a recorder's cap of distinct entries (not in the records: the profile may lack them). */
  dropped?: number;
  /** Record files refused (their header failed the key check), lines dropped (they failed it), records
   *  used without a check (no key given), and copies of another record counted once. */
  rejected?: number;
  forged?: number;
  unchecked?: number;
  duplicates?: number;
}

/** What learning runs did on disk (see runner/clean-state.ts). */
export interface MachineChanges {
  runs: number;
  created: string[];
  changed: string[];
  restored: boolean;
  kept?: string[];
  unrestored: string[];
}

export interface ProfileMeta {
  caps: Capabilities;
  entry: string;
  args: string[];
  cwd: string;
  strategy?: Strategy;
  /** The project root no grant was widened to or above, and the generalisation policy. */
  root?: string;
  granularity?: Granularity;
  /** What each file-system grant covers on disk (the runner looks; the model only reports). */
  exposure?: (path: string, kind: PathKind) => Exposure;
  /** `os.tmpdir()` while learning. */
  tmpdir?: string;
}

/** Why the whole project is readable: what the app asked of the folder itself (the fs calls, when known). */
function projectReadRisk(root: string, g: Grant & { path: string }): string {
  const calls = [...new Set(g.denials.filter((d) => resourcePath(d) === g.path && d.call !== undefined).map((d) => `fs.${d.call}`))];
  const asked = calls.length > 0 ? `asks for ${g.path} itself (${calls.join(', ')})` : `reads ${g.path} itself`;
  return `the whole project (${root}) is readable: the app ${asked}, and a folder's grant reaches every file below it`;
}

export function buildProfile(result: LearnResult, meta: ProfileMeta): Profile {
  const grants = normaliseGrants(result.grants);
  const warnings: string[] = [];
  // Only a profile that may start children is affected (without --allow-child-process there are none).
  const children = grants.some((g) => g.scope === 'child');
  for (const g of grants) {
    if (g.path?.includes(' ') && children && meta.caps.propagatesToSpawned) {
      warnings.push(`${g.path} contains a space: Node ${meta.caps.version.major}+ copies grants unquoted into child processes' NODE_OPTIONS, where it breaks`);
    }
  }
  for (const u of result.unbound ?? []) {
    warnings.push(
      `the app starts a Worker with an execArgv of its own${u.site ? ` (at ${u.site})` : ''}, without --permission: Node runs that Worker outside the permission model, so none of these grants bind it and what it does is not in this profile${u.hits > 1 ? ` (${u.hits} Workers)` : ''}`,
    );
  }
  // Readable to a process of some run without a grant of that run's: Node's own, for a process started
  // without an entry file (an empty entry resolves to the folder it runs in; docs/node-versions.md).
  for (const dir of result.nodeOpened ?? []) {
    if (findCovering(grants, 'fs.read', dir)) continue;
    warnings.push(
      `Node lets a process of this app read everything under ${dir}, its working folder, whatever these flags say: it was started without an entry file (\`node --test\` naming no test files, or a program piped to stdin), and Node then grants the folder it runs in. To keep the rest of ${dir} out of reach, start a file itself (\`node <test file>\` runs that file's tests)`,
    );
  }
  // os.tmpdir() is the environment's: a grant below it (not in the project, which may sit there too)
  // holds only where the app runs with the same one.
  const tmp = meta.tmpdir?.replace(/\/+$/, '');
  const underTmp =
    tmp && !(meta.root !== undefined && isSameOrUnder(tmp, meta.root))
      ? grants.filter((g) => g.path !== undefined && isSameOrUnder(g.path, tmp) && !isSameOrUnder(g.path, meta.root ?? meta.cwd))
      : [];
  if (underTmp.length > 0) {
    warnings.push(
      `${underTmp.length === 1 ? 'a grant names' : `${underTmp.length} grants name`} the temporary directory as it was while learning (${underTmp.map((g) => renderGrantFlag(g)).join(', ')}): the app must run with TMPDIR=${tmp} for ${underTmp.length === 1 ? 'it' : 'them'} to hold (learn again under the TMPDIR it runs with)`,
    );
  }
  if (result.delivery === 'node-options') {
    warnings.push(
      'a Node child of the app is started with an execArgv its parent rebuilt, without the grants given on the command line: set these flags in NODE_OPTIONS (permlearn render --format node-options), not on the command line',
    );
  }
  return {
    permlearn: PROFILE_SCHEMA,
    node: meta.caps.version.raw,
    entry: meta.entry,
    args: meta.args,
    cwd: meta.cwd,
    flags: renderFlags(grants, meta.caps),
    grants: grants.map((g) => {
      // The same resource may have been seen in several runs: once each, with its hits added up.
      const out: ProfileGrant = withTarget(g, { flag: renderGrantFlag(g), denials: dedupeDenials(g.denials), notes: g.notes });
      const risk = grantRisk(g, { cwd: meta.cwd, entry: meta.entry, grants, caps: meta.caps });
      const risks = risk ? [risk.message] : [];
      if (
        g.scope === 'fs.read' &&
        g.path !== undefined &&
        meta.root !== undefined &&
        (g.kind === 'dir' || g.kind === 'created-dir') &&
        isSameOrUnder(meta.root, g.path)
      ) {
        risks.push(projectReadRisk(meta.root, g));
      }
      if (g.path !== undefined && meta.exposure) {
        out.exposes = meta.exposure(g.path, g.kind);
        const n = out.exposes.secrets.length;
        if (n > 0)
          risks.push(
            `${g.scope === 'fs.write' ? 'write' : 'read'} access to ${n === 1 ? 'a secret-looking file' : `${n} secret-looking files`}: ${out.exposes.secrets.slice(0, 3).join(', ')}${n > 3 ? ', …' : ''}`,
          );
        const links = out.exposes.links ?? [];
        if (links.length > 0) {
          const shown = links
            .slice(0, 3)
            .map(
              (l) => `${l.link} → ${l.target}${meta.root !== undefined && isSameOrUnder(meta.root, l.target) ? ' (the project itself, by another name)' : ''}`,
            );
          risks.push(`reaches through symbolic links, which Node follows without checking their targets: ${shown.join(', ')}${links.length > 3 ? ', …' : ''}`);
        }
      }
      if (g.notes.some((n) => n.code === 'accepted-broad')) risks.push('broader than permlearn allows on its own: accepted with --accept-broad');
      if (risks.length) out.risk = risks.join('; ');
      return out;
    }),
    runs: result.runs,
    strategy: meta.strategy ?? 'rerun',
    ...(result.delivery ? { delivery: result.delivery } : {}),
    ...(result.minimized
      ? {
          minimized: {
            removed: result.minimized.removed.map(renderGrantFlag),
            narrowed: result.minimized.narrowed.map((n) => ({ from: renderGrantFlag(n.from), to: n.to.map(renderGrantFlag) })),
            untried: result.minimized.untried.map(renderGrantFlag),
          },
        }
      : {}),
    ...(result.tightened ? { tightened: describeTightened(result.tightened) } : {}),
    ...(meta.root !== undefined ? { root: meta.root } : {}),
    ...(meta.granularity !== undefined ? { granularity: meta.granularity } : {}),
    verified: result.status === 'verified',
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    observed: result.observed,
    ungrantable: result.ungrantable,
    ...(result.refused.length ? { refused: result.refused } : {}),
    warnings,
  };
}

const SAFE_ARG = /^[A-Za-z0-9_\-./=:,@%+]+$/;

/** Quote one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE_ARG.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `--format flags`: the flags as one shell-quoted line. */
export function renderFlagsLine(profile: Pick<Profile, 'flags'>): string {
  return profile.flags.map(shellQuote).join(' ');
}

/** `--format json`. */
export function renderJson(profile: Profile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
}

// Reading a profile back (one schema for every reader) lives beside it.
export { parseProfile, ProfileError, MAX_PROFILE_BYTES, pathProblem, jsonLocation } from './profile-schema.js';
