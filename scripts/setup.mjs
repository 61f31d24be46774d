#!/usr/bin/env node
// Set-up on a machine that has only Node and npm: fetch pnpm through npx, install the workspace
// (which also fetches the Node 20/22/24/26 test binaries and builds the fixtures), compile the TypeScript.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PNPM = 'pnpm@10.34.9';
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function pnpm(args, options = {}) {
  execFileSync('npx', ['--yes', PNPM, ...args], { cwd: root, stdio: 'inherit', ...options });
}

export function setup() {
  const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
  pnpm(['install', ...frozen, '--reporter=append-only']);
  pnpm(['run', 'build']);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) setup();
