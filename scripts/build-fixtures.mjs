// Prepares the fixtures that need more than a checkout (root postinstall):
// - fixtures/scopes/addon: a Node-API addon compiled with `cc`;
// - fixtures/apps/*: apps with a real dependency tree, installed from their lockfile with `npm ci`.
// Idempotent: each step is skipped when its output is newer than its inputs.
// Missing tools only produce a message, never a failed install.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = path.join(root, 'fixtures', 'scopes', 'addon');
const source = path.join(addonDir, 'addon.c');
const output = path.join(addonDir, 'build', 'addon.node');
const label = 'build-fixtures:';

// Headers of Node 20 (the oldest supported line); Node-API keeps the ABI
// stable, so the addon built against them loads in every later major.
async function findIncludeDir() {
  const candidates = [];
  try {
    const nodes = await import('@permlearn/test-nodes');
    candidates.push(nodes.nodeIncludeDir(20));
  } catch {
    // workspace package not installed yet: fall back to the running node
  }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'include', 'node'));
  candidates.push('/usr/local/include/node', '/usr/include/node');
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

function upToDate() {
  try {
    return fs.statSync(output).mtimeMs >= fs.statSync(source).mtimeMs;
  } catch {
    return false;
  }
}

async function main() {
  if (!fs.existsSync(source)) {
    console.log(`${label} ${path.relative(root, source)} not found, nothing to build`);
    return;
  }
  if (upToDate()) {
    console.log(`${label} fixtures/scopes/addon is up to date`);
    return;
  }
  const probe = spawnSync('cc', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    console.log(`${label} no C compiler ('cc') found; skipping fixtures/scopes/addon (addon tests will fail)`);
    return;
  }
  const include = await findIncludeDir();
  if (!include) {
    console.log(`${label} node_api.h not found; skipping fixtures/scopes/addon (addon tests will fail)`);
    return;
  }
  fs.mkdirSync(path.dirname(output), { recursive: true });
  // Compile to a temporary name and rename, so a failed build leaves no stale file.
  const tmp = `${output}.${process.pid}.tmp`;
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', `-I${include}`, source, '-o', tmp], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) {
    fs.rmSync(tmp, { force: true });
    console.log(`${label} compiling fixtures/scopes/addon failed; addon tests will fail\n${cc.stderr || cc.error}`);
    return;
  }
  fs.renameSync(tmp, output);
  console.log(`${label} built ${path.relative(root, output)}`);
}

/** `npm ci` each fixture app whose node_modules is missing or older than its lockfile. */
function installApps() {
  const appsDir = path.join(root, 'fixtures', 'apps');
  if (!fs.existsSync(appsDir)) return;
  // pnpm runs this script with its own npm_config_* settings, which are not meant for npm.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));
  for (const name of fs.readdirSync(appsDir).sort()) {
    const dir = path.join(appsDir, name);
    const lock = path.join(dir, 'package-lock.json');
    if (!fs.existsSync(lock)) continue;
    const marker = path.join(dir, 'node_modules', '.package-lock.json');
    if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) {
      console.log(`${label} fixtures/apps/${name} is up to date`);
      continue;
    }
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: dir, env, stdio: 'inherit' });
    console.log(r.status === 0 ? `${label} installed fixtures/apps/${name}` : `${label} npm ci failed in fixtures/apps/${name}; its tests will fail`);
  }
}

await main();
installApps();
