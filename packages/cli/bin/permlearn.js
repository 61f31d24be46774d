#!/usr/bin/env node
// permlearn's executable: the CLI's one-file build (dist/bundle/, made by build.mjs) does the work.
// On Node 22.1+ V8's compiled code of permlearn's own files is kept between runs, in Node's default
// folder (node-compile-cache in the temporary directory, never the app's project; on 20 this is not
// there and nothing is done). It is permlearn's own: the app's processes are not started with it.
import module from 'node:module';

module.enableCompileCache?.();
// Loading the CLI is the longest part of permlearn's own start, so a `--node` binary named on the command
// line is asked for its version first, while the CLI loads (the CLI's probe then takes that answer, and
// judges it as its own).
const argv = process.argv.slice(2);
const node = nodeOption(argv);
if (node) (await import('../dist/bundle/node-probe.js')).prefetchNodeProbe(node);
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
