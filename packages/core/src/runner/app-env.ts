// The environment the app is run with: the user's, not what permlearn's own launcher added.
//
// How permlearn was started leaves traces in its environment: pnpm's bin shim prepends its virtual
// store (`…/node_modules/.pnpm/node_modules`) to NODE_PATH, npx and `pnpm exec` set npm's `npm_*`
// variables and INIT_CWD for the package they ran in, and put that installation's `.bin` on PATH. An app
// that inherits them resolves its optional require()s into permlearn's installation, and its profile
// names permlearn's files. Those traces are removed here; everything else (the user's own NODE_PATH
// entries, NODE_OPTIONS, the rest) is passed on unchanged. As a last line of defence, `permlearnOwn()`
// says whether a path lies inside permlearn's installation, so that no grant ever points there.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSameOrUnder } from '../model/paths/index.js';
import { CORE_DIR } from './own-files.js';

export interface Installation {
  /** Folders that are permlearn's alone: its packages, and the node_modules it was installed into when
   *  that is not the app's project (npx's cache, a global prefix, permlearn's own checkout). */
  roots: string[];
  /** pnpm virtual stores holding permlearn's packages: a NODE_PATH entry inside one is pnpm's shim. */
  stores: string[];
  /** permlearn's own package folders (and their dependencies'). */
  packages: string[];
  /** Folders that hold permlearn's own package directories as a checkout (not an install). */
  checkouts: string[];
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The nearest folder at or above `from` with a package.json, and that package's name. */
function packageAt(from: string): { dir: string; name?: string } | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return { dir, name: (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name };
      } catch {
        return { dir };
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

const NM = `${path.sep}node_modules${path.sep}`;

/** Where permlearn is installed, as seen from the app's project root. */
export function permlearnInstallation(appRoot: string, argv1: string | undefined = process.argv[1]): Installation {
  const own = new Set<string>();
  const core = packageAt(CORE_DIR);
  if (core) own.add(core.dir);
  // The CLI, when it is what runs (`permlearn`, `node packages/cli/bin/permlearn.js`, a shim's target).
  if (argv1) {
    const cli = packageAt(path.dirname(real(argv1)));
    if (cli?.name === 'permlearn') own.add(cli.dir);
  }
  // Where permlearn's dependencies come from: they are installed next to it, or in its checkout.
  for (const dep of ['fast-glob']) {
    try {
      own.add(path.dirname(real(fileURLToPath(import.meta.resolve(dep)))));
    } catch {
      // not resolvable from here: nothing to add
    }
  }
  const roots = new Set<string>();
  const stores = new Set<string>();
  const checkouts = new Set<string>();
  const app = real(appRoot);
  for (const dir of own) {
    const at = dir.indexOf(NM);
    const pnpm = dir.indexOf(`${NM}.pnpm${path.sep}`);
    if (pnpm >= 0) stores.add(dir.slice(0, pnpm + NM.length + '.pnpm'.length));
    if (at < 0) {
      // A checkout (or a linked workspace package): the package folder itself is permlearn's.
      roots.add(dir);
      checkouts.add(dir);
      continue;
    }
    // Installed: the node_modules it lies in is permlearn's alone unless the app's project uses it too.
    const host = dir.slice(0, at);
    const modules = dir.slice(0, at + NM.length - 1);
    if (isSameOrUnder(app, host)) roots.add(packageRootOf(dir));
    else roots.add(modules);
  }
  // The CLI's packages in a checkout: the checkout's node_modules holds their dependencies.
  for (const dir of checkouts) {
    for (const s of stores) {
      const host = path.dirname(path.dirname(s));
      if (isSameOrUnder(dir, host) && !isSameOrUnder(app, host)) roots.add(path.dirname(s));
    }
  }
  const packages = [...own].map((d) => (d.includes(NM) ? packageRootOf(d) : d));
  return { roots: [...roots], stores: [...stores], checkouts: [...checkouts], packages };
}

/** The package directory a path inside node_modules belongs to (`…/node_modules/@scope/name`). */
function packageRootOf(dir: string): string {
  const at = dir.lastIndexOf(NM);
  const rest = dir.slice(at + NM.length).split(path.sep);
  const take = rest[0]?.startsWith('@') ? 2 : 1;
  return dir.slice(0, at + NM.length) + rest.slice(0, take).join(path.sep);
}

/** Why `abs` lies in permlearn's installation, or undefined. The path as the app used it is compared
 *  (no realpath: this is asked of every denial, tens of thousands in a large audit run). */
export function insideInstallation(abs: string, inst: Installation): string | undefined {
  const root = inst.roots.find((r) => isSameOrUnder(abs, r));
  return root ? `inside permlearn's own installation (${root})` : undefined;
}

/** Variables package managers set for the package a command runs in. */
const LAUNCHER_VARS = /^(npm_.*|INIT_CWD|PNPM_PACKAGE_NAME|PNPM_SCRIPT_SRC_DIR|pnpm_config_.*|PROJECT_CWD|BERRY_BIN_FOLDER)$/;

export interface AppEnvironment {
  env: NodeJS.ProcessEnv;
  /** What was taken out, for the report: variable names, and NODE_PATH/PATH entries. */
  removed: string[];
}

/**
 * The environment for the app: `env` less what permlearn's launcher added. npm's variables are kept only
 * when they describe the user's own script in the app's project (`npm run learn` there), which is what
 * the app sees when the user runs it with npm; after `npx permlearn`, `pnpm exec permlearn` or a script of
 * permlearn's own checkout, they describe permlearn's start, not the user's shell.
 */
export function appEnvironment(env: NodeJS.ProcessEnv, appRoot: string, inst: Installation): AppEnvironment {
  const out: NodeJS.ProcessEnv = { ...env };
  const removed: string[] = [];
  const under = (p: string, dirs: readonly string[]) => dirs.some((d) => isSameOrUnder(path.resolve(p), d) || isSameOrUnder(real(p), d));
  // NODE_PATH: pnpm's shim points into the virtual store permlearn's packages are in; a user's own entry
  // (a global prefix's node_modules, say) stays. PATH: the `.bin` of an installation that is permlearn's alone.
  const inside = { NODE_PATH: (p: string) => under(p, [...inst.stores, ...inst.packages]), PATH: (p: string) => under(p, [...inst.roots, ...inst.stores]) };
  const filterList = (name: 'NODE_PATH' | 'PATH') => {
    const value = out[name];
    if (value === undefined) return;
    const entries = value.split(path.delimiter);
    const kept = entries.filter((e) => e === '' || !path.isAbsolute(e) || !inside[name](e));
    for (const e of entries) if (!kept.includes(e)) removed.push(`${name} entry ${e}`);
    if (kept.length === entries.length) return;
    if (kept.filter(Boolean).length === 0 && name === 'NODE_PATH') delete out[name];
    else out[name] = kept.join(path.delimiter);
  };
  filterList('NODE_PATH');
  filterList('PATH');
  if (!userScript(env, appRoot, inst)) {
    for (const key of Object.keys(out)) {
      if (LAUNCHER_VARS.test(key)) {
        delete out[key];
        removed.push(key);
      }
    }
  }
  return { env: out, removed };
}

/** Were the npm variables set by the user's own `npm run <script>` in the app's project (or a workspace above it)? */
function userScript(env: NodeJS.ProcessEnv, appRoot: string, inst: Installation): boolean {
  const pkg = env.npm_package_json;
  if (!pkg || env.npm_command === 'exec' || env.npm_lifecycle_event === 'npx' || !env.npm_lifecycle_event) return false;
  const dir = real(path.dirname(pkg));
  if (!isSameOrUnder(real(appRoot), dir)) return false;
  // A script of permlearn's own checkout (`npm run demo` there) is permlearn's, not the user's.
  return !inst.checkouts.some((c) => isSameOrUnder(c, dir)) && insideInstallation(dir, inst) === undefined;
}
