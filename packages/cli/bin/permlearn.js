#!/usr/bin/env node
// permlearn's executable: the compiled CLI does the work. Loading it is the longest part of permlearn's
// own start, so a `--node` binary named on the command line is asked for its version first, while the
// CLI loads (the CLI's probe then takes that answer, and judges it as its own).
import { prefetchNodeProbe } from '@permlearn/core/node-probe';

const argv = process.argv.slice(2);
const node = nodeOption(argv);
if (node) prefetchNodeProbe(node);
const { main } = await import('../dist/main.js');
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
