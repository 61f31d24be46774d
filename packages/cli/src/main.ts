// permlearn's command line: pick the command, run it. The one place that catches errors and picks an exit code.
import { PermlearnError, killAllGroups } from '@permlearn/core';
import { parseArgs, parseCheckArgs, parseExplainArgs, parseMergeArgs, parseRenderArgs, type Parsed } from './args.js';
import { EXIT, exitCodeOfError } from './exit-codes.js';
import { Reporter, colorEnabled } from './report.js';
import { explainProfile } from './explain.js';
import { readProfileFile } from './profile-file.js';
import { renderCommand } from './render-command.js';
import { learnCommandLine } from './learn-command.js';
import { checkCommand } from './check.js';
import { mergeCommand } from './merge-command.js';

function installSignalHandlers(reporter: Reporter): void {
  // Whatever happens, no app process outlives permlearn.
  process.on('exit', killAllGroups);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllGroups();
      reporter.error(`interrupted (${sig}); every process of the app was stopped`);
      process.exit(EXIT.interrupted);
    });
  }
}

function parseFor(argv: string[]): Promise<Parsed> {
  switch (argv[0]) {
    case 'render':
      return parseRenderArgs(argv.slice(1));
    case 'check':
      return parseCheckArgs(argv.slice(1));
    case 'merge':
      return parseMergeArgs(argv.slice(1));
    case 'explain':
      return parseExplainArgs(argv.slice(1));
    case 'run':
      return parseArgs(argv.slice(1), { run: true });
    default:
      return parseArgs(argv);
  }
}

export async function main(argv: string[]): Promise<number> {
  const env = process.env;
  const reporter = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: false });
  try {
    const parsed = await parseFor(argv);
    switch (parsed.kind) {
      case 'done':
        process.stdout.write(`${parsed.output}\n`);
        return EXIT.ok;
      case 'explain':
        process.stdout.write(explainProfile(readProfileFile(parsed.profile), colorEnabled(process.stdout, env)));
        return EXIT.ok;
      case 'render':
        return await renderCommand(parsed.args, new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: parsed.args.quiet }));
      case 'learn':
        installSignalHandlers(reporter);
        return await learnCommandLine(parsed.args, env);
      case 'check':
        installSignalHandlers(reporter);
        return await checkCommand(parsed.args, env);
      case 'merge':
        installSignalHandlers(reporter);
        return await mergeCommand(parsed.args, env);
    }
  } catch (err) {
    if (err instanceof PermlearnError) {
      reporter.error(err.message);
      return exitCodeOfError(err);
    }
    reporter.error(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    return EXIT.internal;
  }
}
