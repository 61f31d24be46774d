// Reading permlearn configs from disk: one folder's, a named file, or every one in a workspace.
// The checking itself is model/config.ts; this file only reads and finds.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PermlearnError } from '../errors.js';
import { CONFIG_FILE, parseConfigText, resolveConfig, type ResolvedConfig } from '../model/config.js';

/** Where a config was found: the file, and how to name it in messages. */
export interface FoundConfig {
  file: string;
  config: ResolvedConfig;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new PermlearnError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * Read one config file: a `permlearn.config.json` (any name that is not package.json), or a package.json
 * with a `permlearn` field (an error without one). `name` is how messages refer to it.
 */
export function readConfigFile(file: string, name = file): FoundConfig {
  const abs = path.resolve(file);
  const isPackageJson = path.basename(abs) === 'package.json';
  const config = parseConfigText(readText(abs), name, { packageJson: isPackageJson });
  if (!config) throw new PermlearnError('usage', `${name} has no "permlearn" field`);
  return { file: abs, config: resolveConfig(config, path.dirname(abs)) };
}

/** The config of the folder `dir`: its permlearn.config.json, else its package.json's `permlearn` field, else none. */
export function findConfigIn(dir: string, name?: (file: string) => string): FoundConfig | undefined {
  const own = path.join(dir, CONFIG_FILE);
  if (existsSync(own)) return readConfigFile(own, name?.(own));
  const pkg = path.join(dir, 'package.json');
  if (!existsSync(pkg)) return undefined;
  const config = parseConfigText(readText(pkg), name?.(pkg) ?? pkg, { packageJson: true });
  return config ? { file: pkg, config: resolveConfig(config, dir) } : undefined;
}

/**
 * Every package under `root` with a permlearn config (node_modules and dot-folders skipped), one per
 * folder, in path order. A folder with both keeps permlearn.config.json.
 */
export async function findWorkspaceConfigs(root: string, name?: (file: string) => string): Promise<FoundConfig[]> {
  // Loaded here, not at start-up: it costs every other command a noticeable share of its start.
  const { default: fg } = await import('fast-glob');
  const files = await fg([`**/${CONFIG_FILE}`, '**/package.json'], { cwd: root, absolute: true, ignore: ['**/node_modules/**', '**/.*/**'], onlyFiles: true });
  const dirs = [...new Set(files.map((f) => path.dirname(f)))].sort();
  const out: FoundConfig[] = [];
  for (const dir of dirs) {
    const found = findConfigIn(dir, name);
    if (found) out.push(found);
  }
  return out;
}
