#!/usr/bin/env node
// permlearn's executable: the CLI's one-file build (dist/bundle/, made by build.mjs) does the work. Loading
// it is the longest part of permlearn's own start, so a `--node` binary named on the command line is asked
// for its version first, while the CLI loads (the CLI's probe then takes that answer, and judges it as its own).
import { prefetchNodeProbe } from '../dist/bundle/node-probe.js';

const argv = process.argv.slice(2);
const node = nodeOption(argv);
if (node) prefetchNodeProbe(node);
const { main } = await import('../dist/bundle/main.js');
process.exitCode = await main(argv);

/** The value of the last `--node X` / `--node=X` before `--` (a guess: a wrong one only costs a probe). */
function nodeOption(args) {
  let value;
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    if (args[i] === '--node' && i + 1 < args.length && !args[i + 1].startsWith('-')) value = args[++i];
    else if (args[i].startsWith('--node=')) value = args[i].slice('--node='.length);
  }
  return value;
}
