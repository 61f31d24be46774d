// permlearn's command line: pick the command, run it. The one place that catches errors and picks an exit code.
import { existsSync } from 'node:fs';
import { PermlearnError, closestMatch, killAllGroups } from '@permlearn/core';
import { parseArgs, parseCheckArgs, parseExplainArgs, parseMergeArgs, parseRecordArgs, parseRenderArgs, type Parsed } from './shared/options.js';
import { recordCommandLine } from './commands/record.js';
import { EXIT, exitCodeOfError } from './exit-codes.js';
import { Reporter, colorEnabled } from './shared/report.js';
import { explainProfile } from './commands/explain.js';
import { readProfileFile } from './shared/profile-io.js';
import { renderCommand } from './commands/render.js';
import { learnCommandLine } from './commands/learn.js';
import { checkCommand } from './commands/check.js';
import { mergeCommand } from './commands/merge.js';
import { unsupportedPlatform } from './shared/platform.js';

const COMMANDS = ['run', 'check', 'merge', 'render', 'explain', 'record'];

/**
 * The environment the commands see for colour: `--color` / `--no-color` (the last one before `--` wins)
 * become FORCE_COLOR / NO_COLOR, so every reporter decides the same way.
 */
export function colorEnv(argv: readonly string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const end = argv.indexOf('--');
  let color: boolean | undefined;
  for (const a of end === -1 ? argv : argv.slice(0, end)) {
    if (a === '--color' || a === '--color=true') color = true;
    else if (a === '--no-color' || a === '--color=false') color = false;
  }
  if (color === undefined) return env;
  const { NO_COLOR: _no, FORCE_COLOR: _force, ...rest } = env;
  return color ? { ...rest, FORCE_COLOR: '1' } : { ...rest, NO_COLOR: '1' };
}

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
    case 'record':
      return parseRecordArgs(argv.slice(1));
    default: {
      // `permlearn chek`: a typo of a command, unless a file of that name is there to learn.
      const first = argv[0];
      const hit = first && !first.startsWith('-') && !existsSync(first) ? closestMatch(first, COMMANDS) : undefined;
      if (hit) throw new PermlearnError('usage', `unknown command '${first}' (did you mean ${hit}?), and no file ${first} to learn`);
      return parseArgs(argv);
    }
  }
}

export async function main(argv: string[]): Promise<number> {
  const env = colorEnv(argv, process.env);
  const reporter = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: false });
  try {
    const parsed = await parseFor(argv);
    const platform = parsed.kind === 'learn' || parsed.kind === 'check' || parsed.kind === 'merge' ? unsupportedPlatform(process.platform) : undefined;
    if (platform) throw new PermlearnError('environment', platform);
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
      case 'record':
        // Signals go on to the service (recordCommand), which flushes its records and ends.
        process.on('exit', killAllGroups);
        return await recordCommandLine(parsed.args, reporter);
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
