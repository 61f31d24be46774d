// Why a grant deserves a second look, and what the permission model does not check at all on a
// given Node (shared/node-permission-model.md §1.4, §7). Pure: paths in, findings out.
import path from 'node:path';
import type { Capabilities } from './node-versions.js';
import type { PathKind, Scope } from './types.js';
import type { GrantTarget } from './grants.js';
import { grantCovers, isSameOrUnder } from './paths/index.js';

export type RiskCode = 'child-process' | 'native-code' | 'worker' | 'inspector' | 'write-app-dir' | 'write-code' | 'write-node-modules' | 'wildcard';

export type HoleCode = 'net-unenforced' | 'sqlite-unchecked' | 'env-file-unchecked';

export interface Risk<C extends string = RiskCode> {
  code: C;
  message: string;
}

/** The parts of a grant the risk rules look at. */
export type RiskGrant = GrantTarget;

export interface RiskContext {
  /** The app's working directory (absolute). */
  cwd: string;
  /** The entry file (absolute), if known. */
  entry?: string;
  /** Every grant of the profile: a write grant is checked against the code files it may reach. */
  grants?: readonly RiskGrant[];
  /** The Node the grants are for; without it, the wording holds for 22+. */
  caps?: Capabilities;
}

/** Files Node runs as code: a write grant that reaches one lets the app (or an attacker in it) rewrite itself. */
const CODE_FILE = /\.(?:[cm]?js|[cm]?ts|jsx|tsx|node|wasm)$/;

function childRisk(caps: Capabilities | undefined): string {
  const base = 'child processes: non-Node children run with no restrictions at all';
  if (caps && !caps.propagatesToSpawned) {
    return `${base}, and on Node ${caps.version.major} neither do Node children started with spawn/exec (only fork passes the flags on)`;
  }
  return base;
}

/** The first reason a grant deserves a second look, or undefined when it does not. */
export function grantRisk(g: RiskGrant, ctx: RiskContext): Risk | undefined {
  switch (g.scope) {
    case 'child':
      return { code: 'child-process', message: childRisk(ctx.caps) };
    case 'addon':
      return { code: 'native-code', message: 'native addons: native code is not bound by the permission model' };
    case 'ffi':
      return { code: 'native-code', message: 'FFI: native code is not bound by the permission model' };
    case 'worker':
      return {
        code: 'worker',
        message:
          'workers: a Worker started with the inherited flags has the same grants as the app, but one given an execArgv of its own without --permission runs outside the permission model, so any code that can start a Worker can escape every other grant',
      };
    case 'inspector':
      return { code: 'inspector', message: 'the inspector can run any code in the process' };
    default:
      break;
  }
  if (g.path === undefined) return undefined;
  const kind = g.kind;
  if (g.scope === 'fs.write') {
    const subtree = kind === 'dir' || kind === 'created-dir';
    if (subtree && (g.path === ctx.cwd || isSameOrUnder(ctx.cwd, g.path))) {
      return { code: 'write-app-dir', message: 'write access to the directory that holds the app itself' };
    }
    const code = codeReachedBy(g.path, kind, ctx);
    if (code) {
      // A file the app loads (the entry, a granted module) is code it runs; any other .js is code it writes (a build's output, say).
      const runs = codeRunBy(g.path, kind, ctx);
      return {
        code: 'write-code',
        message: runs
          ? `write access to code the app runs (${code}): the app could rewrite itself`
          : `write access to a code file (${code}): whatever later runs it runs what the app wrote`,
      };
    }
    if (g.path.split('/').includes('node_modules')) {
      return { code: 'write-node-modules', message: "write access inside node_modules: dependencies' code could be changed" };
    }
  }
  if (kind === 'prefix') return { code: 'wildcard', message: `a prefix wildcard: every path starting with ${g.path}` };
  return undefined;
}

/** A code file (the entry, or a granted readable one) that a write grant reaches. */
function codeReachedBy(grantPath: string, kind: PathKind, ctx: RiskContext): string | undefined {
  const candidates: string[] = [];
  if (ctx.entry) candidates.push(ctx.entry);
  for (const r of ctx.grants ?? []) {
    if (r.scope === 'fs.read' && r.path !== undefined && r.kind === 'file' && CODE_FILE.test(r.path)) candidates.push(r.path);
  }
  const hit = candidates.find((file) => grantCovers(grantPath, kind, file));
  if (hit) return path.basename(hit);
  // A write grant of a single file that is itself code.
  if (kind !== 'prefix' && CODE_FILE.test(grantPath) && (kind === 'file' || kind === 'missing')) return path.basename(grantPath);
  return undefined;
}

/** Whether a write grant reaches the entry or a code file the profile grants for reading. */
function codeRunBy(grantPath: string, kind: PathKind, ctx: RiskContext): boolean {
  const loaded = [
    ctx.entry,
    ...(ctx.grants ?? []).filter((r) => r.scope === 'fs.read' && r.kind === 'file' && r.path !== undefined && CODE_FILE.test(r.path)).map((r) => r.path),
  ];
  return loaded.some((file) => file !== undefined && grantCovers(grantPath, kind, file));
}

/** What the permission model never checks on this Node, whatever the grants (facts §1.1, §7). */
export function modelHoles(caps: Capabilities): Risk<HoleCode>[] {
  const holes: Risk<HoleCode>[] = [];
  const v = caps.version.major;
  if (caps.unrestricted.has('net')) {
    holes.push({
      code: 'net-unenforced',
      message: `the network is not restricted on Node ${v}: the app can connect and listen anywhere (--allow-net exists from Node 26)`,
    });
  }
  if (v >= 22) {
    holes.push({ code: 'sqlite-unchecked', message: 'node:sqlite opens and writes database files with no permission check' });
  }
  holes.push({ code: 'env-file-unchecked', message: '--env-file is read at start-up with no permission check (process.loadEnvFile() is checked)' });
  return holes;
}
