// The shape of a saved profile, checked whenever one is read back (explain, render, merge, check): one
// schema (zod) for every reader, so a profile that is malformed, inconsistent or edited by hand to say
// one thing and grant another stops with one line naming the JSON location, never a stack trace.
// Pure: text in, a Profile or a ProfileError out. docs/decisions.md says why zod.
import path from 'node:path';
import { createRequire } from 'node:module';
import type { z } from 'zod';
import { PermlearnError } from '../errors.js';
import { capabilitiesOf, FLAG_OF_SCOPE, MIN_MAJOR, parseNodeVersion } from './node-versions.js';
import { renderGrantPath } from './paths/index.js';
import { KNOWN_PERMISSIONS, LEARN_STRATEGIES, parsePermission, type Denial, type PathKind, type Scope } from './types.js';
import type { Profile, ProfileGrant } from './profile.js';
import type { GrantTarget } from './grants.js';
import { GRANULARITIES } from './generalise.js';
import { TIGHTENED_DENIALS } from './tightened.js';

/** A saved profile's text may not be larger than this (bytes); real ones are a few MB at most. */
export const MAX_PROFILE_BYTES = 64 * 1024 * 1024;
/** Linux's PATH_MAX: no path Node can open is longer. */
export const MAX_PATH_LENGTH = 4096;
/** Any other string (a message, a reason, an output tail). */
export const MAX_TEXT_LENGTH = 64 * 1024;
/** Any list (grants, evidence, warnings). */
export const MAX_LIST_LENGTH = 1_000_000;
/** The frames above a call site a denial may carry (the recorder sends 4 at most). */
const MAX_CALLERS = 16;

/** A profile that cannot be used as it is: malformed, inconsistent, or a saved profile of another kind. */
export class ProfileError extends PermlearnError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'ProfileError';
  }
}

const SCOPES = Object.keys(FLAG_OF_SCOPE) as [Scope, ...Scope[]];
const PATH_KINDS = ['file', 'dir', 'missing', 'created-dir', 'prefix'] as const satisfies readonly PathKind[];
const FS_SCOPES: readonly Scope[] = ['fs.read', 'fs.write'];
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `p` is not an absolute, normalised path (`/a/b`: no `.`, `..`, `//`, trailing `/`), if it is not. */
export function pathProblem(p: string, { trailingSlash = false } = {}): string | undefined {
  if (!p.startsWith('/')) return 'is not an absolute path';
  if (CONTROL.test(p)) return 'holds a control character';
  const bare = trailingSlash && p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  if (path.posix.normalize(bare) !== bare || (bare.length > 1 && bare.endsWith('/'))) return 'is not a normalised path (no ".", "..", "//" or trailing "/")';
  return undefined;
}

/**
 * The schemas, built on first use: zod is loaded only when a profile is read (about 120 ms that
 * learning, which only writes profiles, does not pay).
 */
function buildSchemas(z: typeof import('zod').z) {
  const text = z.string().max(MAX_TEXT_LENGTH);
  const list = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_LIST_LENGTH);
  const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
  /** Epoch milliseconds (JavaScript's Date range). */
  const epochMs = z.number().min(0).max(8.64e15);
  /** One line: what ends up in a comment or a line of generated code may not break out of it. */
  const oneLine = text.refine((s) => !CONTROL.test(s), { message: 'holds a line break or another control character' });

  const absPath = (opts: { trailingSlash?: boolean } = {}) =>
    z
      .string()
      .max(MAX_PATH_LENGTH)
      .superRefine((p, ctx) => {
        const problem = pathProblem(p, opts);
        if (problem) ctx.addIssue({ code: 'custom', message: `${show(p)} ${problem}` });
      });

  // A permission name permlearn does not know is read into the union ('unknown', the name kept in
  // rawPermission), whether the profile was written before that field existed or after.
  const liftPermission = (v: unknown) =>
    v !== null && typeof v === 'object' && 'permission' in v && typeof v.permission === 'string' && !('rawPermission' in v)
      ? { ...v, ...parsePermission(v.permission) }
      : v;
  const denialSchema = z.preprocess(
    liftPermission,
    z.strictObject({
      permission: z.enum([...KNOWN_PERMISSIONS, '', 'unknown']),
      rawPermission: text.optional(),
      resource: z.string().max(MAX_PATH_LENGTH),
      cwd: absPath().optional(),
      code: text,
      message: text.optional(),
      source: z.enum(['uncaught', 'logged', 'channel', 'caught', 'loaded', 'stderr']),
      site: text.optional(),
      callers: z.array(text).max(MAX_CALLERS).optional(),
      thread: z.enum(['main', 'worker', 'child']).optional(),
      by: text.optional(),
      at: text.optional(),
      existed: z.boolean().optional(),
      asked: z.literal('has').optional(),
      via: text.optional(),
      addonFile: absPath().optional(),
      resourceFrom: z.enum(['argument']).optional(),
      loader: z.literal(true).optional(),
      guarded: z.literal(true).optional(),
      call: z
        .string()
        .regex(/^[a-z][A-Za-z]{0,39}$/)
        .optional(),
      hits: count.min(1).optional(),
      time: epochMs.optional(),
      lastTime: epochMs.optional(),
      given: z.strictObject({ execArgv: z.array(text).max(1000), nodeOptions: z.array(text).max(1000) }).optional(),
    }),
  );

  const grantSchema = z
    .strictObject({
      scope: z.enum(SCOPES),
      flag: z.string().max(MAX_PATH_LENGTH + 64),
      path: absPath({ trailingSlash: true }).optional(),
      kind: z.enum(PATH_KINDS).optional(),
      denials: list(denialSchema).default([]),
      notes: list(
        z.strictObject({
          code: z.enum(['widened-for-node-quirk', 'created-at-run-time', 'mkdtemp-prefix', 'generalised', 'accepted-broad', 'stable-form']),
          detail: text,
        }),
      ).default([]),
      risk: text.optional(),
      exposes: z
        .strictObject({
          files: count,
          secrets: list(absPath()),
          links: list(z.strictObject({ link: z.string().max(MAX_PATH_LENGTH), target: z.string().max(MAX_PATH_LENGTH) })).optional(),
        })
        .optional(),
      /** Merged profiles (permlearn merge): in how many of the runs something asked for it. */
      seen: z.strictObject({ runs: count, of: count, first: epochMs.optional(), last: epochMs.optional() }).optional(),
    })
    .superRefine((g, ctx) => {
      const fs = FS_SCOPES.includes(g.scope);
      if (fs && g.path === undefined) return void ctx.addIssue({ code: 'custom', path: ['path'], message: `a ${g.scope} grant needs a "path"` });
      if (fs && g.kind === undefined) return void ctx.addIssue({ code: 'custom', path: ['kind'], message: `a ${g.scope} grant needs a "kind"` });
      if (!fs && (g.path !== undefined || g.kind !== undefined)) {
        return void ctx.addIssue({ code: 'custom', path: [g.path !== undefined ? 'path' : 'kind'], message: `a ${g.scope} grant has no path or kind` });
      }
      if (g.path !== undefined && g.path.length > 1 && g.path.endsWith('/') && g.kind !== 'prefix' && g.kind !== 'created-dir') {
        return void ctx.addIssue({
          code: 'custom',
          path: ['path'],
          message: `${show(g.path)} is not a normalised path (a trailing "/" belongs only to a prefix)`,
        });
      }
      // What render would pass to Node is rebuilt from scope, path and kind; the stored flag must say the same.
      const rendered = g.path === undefined ? FLAG_OF_SCOPE[g.scope] : `${FLAG_OF_SCOPE[g.scope]}=${renderGrantPath(g.path, g.kind ?? 'file')}`;
      if (g.flag !== rendered)
        ctx.addIssue({
          code: 'custom',
          path: ['flag'],
          message: `${show(g.flag)} is not what the grant's scope, path and kind render as (${show(rendered)}): edited by hand?`,
        });
    });

  const findingSchema = z.strictObject({ code: text, message: text, flag: text.optional() });

  const dropPlanSchema = z.strictObject({
    drops: list(
      z.strictObject({
        scope: z.enum(SCOPES),
        reference: absPath().optional(),
        flag: oneLine,
        covers: list(z.strictObject({ resource: oneLine, by: oneLine.optional(), at: oneLine.optional() })),
      }),
    ),
    keep: list(
      z.strictObject({
        flag: oneLine,
        reason: z.enum(['used-while-serving', 'broke-when-dropped', 'prefix-cannot-drop']),
        resources: list(oneLine).optional(),
        lastAfterMs: z.number().int().nonnegative().optional(),
      }),
    ),
    verified: z.boolean(),
    exercised: z.boolean(),
    notes: list(oneLine),
  });

  const profileSchema = z
    .strictObject({
      permlearn: z.literal(1),
      node: z.string().max(64),
      entry: z.string().min(1).max(MAX_PATH_LENGTH),
      args: list(text).default([]),
      cwd: absPath(),
      flags: list(z.string().max(MAX_PATH_LENGTH + 64)).optional(),
      grants: list(grantSchema),
      runs: count,
      strategy: z.enum(LEARN_STRATEGIES),
      delivery: z.literal('node-options').optional(),
      dropPlan: dropPlanSchema.optional(),
      command: list(text).min(1).optional(),
      exercise: z
        .strictObject({
          commands: list(text),
          results: list(
            z.strictObject({
              command: text,
              exitCode: z.number().int().nullable(),
              timedOut: z.boolean().optional(),
              durationMs: z.number().min(0),
              outputTail: text.optional(),
            }),
          ),
        })
        .optional(),
      minimized: z.strictObject({ removed: list(text), narrowed: list(z.strictObject({ from: text, to: list(text) })), untried: list(text) }).optional(),
      tightened: z
        .strictObject({
          removed: list(z.strictObject({ flag: text, why: oneLine, asks: count, denials: z.array(denialSchema).max(TIGHTENED_DENIALS) })),
          kept: list(text),
          untried: list(text),
          trials: count,
        })
        .optional(),
      root: absPath().optional(),
      granularity: z.enum(GRANULARITIES).optional(),
      verified: z.boolean(),
      status: z.enum(['verified', 'app-failed', 'no-progress', 'run-limit', 'ungrantable', 'verify-failed', 'too-broad', 'child-lost-grants']),
      reason: text.optional(),
      observed: list(denialSchema).default([]),
      ungrantable: list(
        z.strictObject({
          denial: denialSchema,
          code: z.enum(['fd-sync-api', 'symlink-needs-full-fs', 'process-binding', 'scope-not-in-version', 'unknown-permission']),
          reason: text,
        }),
      ).default([]),
      /** Needs refused under the breadth rule (informational: never rendered). */
      refused: list(
        z.strictObject({
          denial: denialSchema,
          // Read as written before grants were a union too: a file-system path without a kind is a file.
          grant: z
            .strictObject({ scope: z.enum(SCOPES), path: z.string().max(MAX_PATH_LENGTH).optional(), kind: z.enum(PATH_KINDS).optional() })
            .transform((g) => (g.path === undefined ? { scope: g.scope } : { scope: g.scope, path: g.path, kind: g.kind ?? 'file' }) as GrantTarget),
          violation: z.strictObject({
            code: z.enum(['root-dir', 'top-level', 'home', 'project-ancestor', 'tmpdir', 'wildcard-name']),
            value: z.string().max(MAX_PATH_LENGTH + 2),
            reason: text,
            instead: text.optional(),
          }),
          because: text.optional(),
        }),
      ).optional(),
      warnings: list(text).default([]),
      /** Needs not granted because their path changes from run to run or is permlearn's own (model/volatile.ts). */
      setAside: list(
        z.strictObject({
          kind: z.enum(['per-process', 'compile-cache', 'case-probe', 'permlearn']),
          scope: z.enum(['fs.read', 'fs.write']),
          path: z.string().max(MAX_PATH_LENGTH),
          reason: text,
          optional: z.boolean(),
        }),
      ).optional(),
      /** What permlearn's launcher had added to the environment, not passed to the app (runner/app-env.ts). */
      environment: z.strictObject({ removed: list(text) }).optional(),
      /** What learning did to the machine (runner/clean-state.ts). */
      machine: z
        .strictObject({ runs: count, created: list(text), changed: list(text), restored: z.boolean(), kept: list(text).optional(), unrestored: list(text) })
        .optional(),
      records: z
        .strictObject({
          files: count,
          first: epochMs.optional(),
          last: epochMs.optional(),
          modes: list(text),
          nodes: list(text),
          cutOff: count,
          unseen: list(text),
          dropped: count.optional(),
          rejected: count.optional(),
          forged: count.optional(),
          unchecked: count.optional(),
          duplicates: count.optional(),
        })
        .optional(),
      /** Merged profiles: where from, and whether the union itself ran. */
      merged: z.strictObject({ from: list(text), verified: z.boolean() }).optional(),
      /** `render --format json`: the rendering beside the profile. */
      rendered: z
        .strictObject({ node: text, cwd: absPath(), relative: z.boolean(), flags: list(text), warnings: list(findingSchema), notes: list(findingSchema) })
        .optional(),
    })
    .superRefine((p, ctx) => {
      const version = parseNodeVersion(p.node);
      if (!version || !/^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(p.node))
        return void ctx.addIssue({ code: 'custom', path: ['node'], message: `${show(p.node)} is not a Node version` });
      if (version.major < MIN_MAJOR) return void ctx.addIssue({ code: 'custom', path: ['node'], message: `Node ${version.raw} has no permission model` });
      if (p.verified !== (p.status === 'verified'))
        ctx.addIssue({ code: 'custom', path: ['verified'], message: `${p.verified} does not agree with "status": ${show(p.status)}` });
      if (!p.command) {
        // Rendering for Node 20 grants the entry file itself: it must name one file.
        const problem = CONTROL.test(p.entry) ? 'holds a control character' : p.entry.endsWith('/') || p.entry.includes('*') ? 'is not a file name' : undefined;
        if (problem) ctx.addIssue({ code: 'custom', path: ['entry'], message: `${show(p.entry)} ${problem}` });
      }
      if (p.flags !== undefined) {
        // The flags as stored must be the grants' own, behind the enable flag of the profile's Node.
        const expected = [capabilitiesOf(version).enableFlag, ...p.grants.map((g) => g.flag)];
        const i = expected.findIndex((f, n) => p.flags![n] !== f);
        const at = i >= 0 ? i : p.flags.length > expected.length ? expected.length : -1;
        if (at >= 0) {
          const got = p.flags[at];
          ctx.addIssue({
            code: 'custom',
            path: ['flags', at],
            message:
              got === undefined
                ? `missing ${show(expected[at]!)}`
                : `${show(got)} is not ${at < expected.length ? show(expected[at]!) : 'one of the grants'}: "flags" must be the enable flag and then each grant's flag`,
          });
        }
      }
    });
  return { denialSchema, grantSchema, profileSchema };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
const schemas = (): Schemas => (built ??= buildSchemas((createRequire(import.meta.url)('zod') as typeof import('zod')).z));

/** Compile-time: the schema reads exactly the fields the types declare (a new field needs the schema too). */
type Same<A, B> = [A, keyof A] extends [B, keyof B] ? ([B, keyof B] extends [A, keyof A] ? true : false) : false;
/** A grant as the schema reads it: one object type, whose refinement checks what the union says (a path
 *  and kind exactly for the file-system scopes). */
type FlatGrant<G> = Omit<G, 'scope' | 'path' | 'kind'> & { scope: Scope; path?: string; kind?: PathKind };
type Parsed = z.output<Schemas['profileSchema']>;
const schemaMatchesTypes: [
  Same<z.output<Schemas['denialSchema']>, Denial>,
  Same<Omit<z.output<Schemas['grantSchema']>, 'seen'>, FlatGrant<ProfileGrant>>,
  Same<Omit<Parsed, 'permlearn' | 'grants' | 'flags' | 'merged' | 'rendered'>, Omit<Profile, 'permlearn' | 'grants' | 'flags'>>,
] = [true, true, true];
void schemaMatchesTypes;

/** A value for a message: JSON, cut short. */
function show(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/** `grants[3].denials[0].resource` for a zod issue path. */
export function jsonLocation(at: readonly PropertyKey[]): string {
  let out = '';
  for (const key of at) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `${jsonLocation([...issue.path, issue.keys[0]!])}: unknown key${issue.keys.length > 1 ? ` (and ${issue.keys.length - 1} more)` : ''}`;
  let why = issue.message.replace(/^(Invalid input|Invalid option|Too big|Too small): /, '');
  if (issue.code === 'invalid_type' && issue.expected === 'int') why = 'expected a whole number';
  if (issue.code === 'too_big' && issue.origin === 'int') why = why.replace('expected int', 'expected a whole number');
  if (issue.code === 'invalid_value' && 'input' in issue) why += `, got ${show(issue.input)}`;
  return `${jsonLocation(issue.path)}: ${why.replace(/\s+/g, ' ')}`;
}

/**
 * Read a saved profile (`--format json`) from its text. `name` says where it came from, for the
 * message. Throws a ProfileError (one line: the file, the JSON location, what is wrong) for anything
 * that is not a well-formed, self-consistent profile; lists a profile may omit come back empty.
 */
export function parseProfile(text: string, name: string): Profile {
  if (text.length > MAX_PROFILE_BYTES) throw new ProfileError(`${name} is larger than ${MAX_PROFILE_BYTES / 1024 / 1024} MiB: not a profile permlearn wrote`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ProfileError(`${name} is not JSON (write profiles with --format json)`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !('permlearn' in data) || !('grants' in data)) {
    throw new ProfileError(`${name} is not a permlearn profile (expected "permlearn": 1 and "grants")`);
  }
  if ((data as { permlearn: unknown }).permlearn !== 1) {
    throw new ProfileError(
      `${name} is not a permlearn profile this version reads ("permlearn": ${show((data as { permlearn: unknown }).permlearn)}, expected 1)`,
    );
  }
  const result = schemas().profileSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const [first, ...rest] = result.error.issues;
    throw new ProfileError(`${name}: ${describeIssue(first!)}${rest.length ? ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})` : ''}`);
  }
  const { flags, ...p } = result.data;
  return { ...p, flags: flags ?? [capabilitiesOf(parseNodeVersion(p.node)!).enableFlag, ...p.grants.map((g) => g.flag)] } as Profile;
}
