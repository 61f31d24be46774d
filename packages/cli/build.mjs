#!/usr/bin/env node
// The CLI's one-file build: tsc compiles the packages (dist/, which @permlearn/core's users and the tests
// import); this then bundles the CLI's compiled entry points with @permlearn/core and yargs into
// dist/bundle/, which bin/permlearn.js runs. Loading ~150 ES modules one by one was most of permlearn's
// own start on Node 20 (see docs/decisions.md, "The CLI starts from one bundled file").
// - main.js is the CLI, node-probe.js the `--node` version probe that bin/ starts before it; they share
//   one copy of the probe's module. The commands main.ts loads lazily (check, merge, render, explain)
//   stay chunks of their own, loaded when picked.
// - @permlearn/core's dependencies (acorn, execa, fast-glob, zod) stay packages, imported as they are from
//   the CLI's own dependencies: core loads most of them only on the paths that need them.
// - yargs is bundled. Its terminal-width helpers (string-width and the packages around it) build large
//   Unicode tables when loaded but are only used to print --help, so they are loaded at their first call.
//   yargs finds its message translations beside its own file: that file's place is kept (the installed
//   yargs), so --help prints the same words under every locale.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist', 'bundle');

/** Modules whose only export used is a default function: loaded (and their top level run) at its first call. */
const LOAD_ON_FIRST_CALL = ['string-width', 'wrap-ansi', 'strip-ansi', 'cliui'];
/** Packages left out of the bundle whose named functions are loaded at the first call of one: acorn is
 *  used only to read the source of a caught denial's call site (runner/guarded-site.ts). */
const REQUIRE_ON_FIRST_CALL = { acorn: ['parse'] };

const loadOnFirstCall = {
  name: 'load-on-first-call',
  setup(b) {
    const names = new RegExp(`^(${LOAD_ON_FIRST_CALL.join('|')})$`);
    b.onResolve({ filter: names }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: { real: true } });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'on-first-call' };
    });
    // esbuild wraps a bundled module that is require()d in a function run at the first require.
    b.onLoad({ filter: /.*/, namespace: 'on-first-call' }, (args) => ({
      contents: `let m;\nexport default function onFirstCall(...a) {\n  m ??= require(${JSON.stringify(args.path)});\n  return m.default(...a);\n}\n`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

const requireOnFirstCall = {
  name: 'require-on-first-call',
  setup(b) {
    const names = new RegExp(`^(${Object.keys(REQUIRE_ON_FIRST_CALL).join('|')})$`);
    b.onResolve({ filter: names }, (args) =>
      args.kind === 'require-call' ? { path: args.path, external: true } : { path: args.path, namespace: 'require-on-first-call' },
    );
    b.onLoad({ filter: /.*/, namespace: 'require-on-first-call' }, (args) => ({
      contents: `let m;\n${REQUIRE_ON_FIRST_CALL[args.path]
        .map((f) => `export function ${f}(...a) {\n  m ??= require(${JSON.stringify(args.path)});\n  return m.${f}(...a);\n}\n`)
        .join('')}`,
      loader: 'js',
    }));
  },
};

/** yargs' ESM shim names its own file to find its translations (`<file>/../../../locales`): the installed one's. */
const yargsOwnPlace = {
  name: 'yargs-own-place',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const line = 'const __dirname = fileURLToPath(import.meta.url);';
      if (!source.includes(line)) throw new Error(`build.mjs: yargs' ${args.path} no longer has "${line}": check how it finds its locales`);
      const placed = "const __dirname = fileURLToPath(new URL('./lib/platform-shims/esm.mjs', import.meta.resolve('yargs')));";
      return { contents: source.replace(line, placed), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

await rm(out, { recursive: true, force: true });
await build({
  entryPoints: { main: path.join(here, 'dist', 'main.js'), 'node-probe': path.join(here, '..', 'core', 'dist', 'runner', 'node-binary.js') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external: ['execa', 'fast-glob', 'zod'],
  // A require() in a bundled ES module (the modules loaded on first call) needs one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  plugins: [loadOnFirstCall, requireOnFirstCall, yargsOwnPlace],
  logLevel: 'warning',
  legalComments: 'inline',
});
