// permlearn's command line: the registry of commands, picking one from argv, and running it. The one place
// that handles signals, catches errors and picks the exit code.
import { existsSync } from 'node:fs';
import { PermlearnError, closestMatch, killAllGroups, timingPhase } from '@permlearn/core';
import { EXIT, describeError } from './exit-codes.js';
import type { Command } from './shared/command.js';
import { Reporter, colorEnabled } from './shared/report.js';
import { unsupportedPlatform } from './shared/platform.js';
import { firstPositional, type Parsed } from './shared/options.js';
import { command as learn, learnParser, parseLearnArgs } from './commands/learn.js';
import { command as run } from './commands/run.js';
import { command as record } from './commands/record.js';

/**
 * A command whose module is loaded only when it is picked: learning (the default, and what permlearn is
 * timed on) does not wait for the code of check, merge, render and explain to load. Its name, line and
 * what it starts are restated here; main.test.ts holds them equal to the module's.
 */
export function lazyCommand(
  name: string,
  describe: string,
  starts: Command<unknown>['starts'],
  load: () => Promise<{ command: Command<unknown> }>,
): Command<unknown> & { load(): Promise<Command<unknown>> } {
  let loaded: Promise<Command<unknown>> | undefined;
  const get = () => (loaded ??= load().then((m) => m.command));
  return { name, describe, starts, load: get, parse: async (argv) => (await get()).parse(argv), run: async (args, ctx) => (await get()).run(args, ctx) };
}

export const LAZY_COMMANDS = [
  lazyCommand('check', 'learn the app again and compare with the committed profile', 'app', () => import('./commands/check.js')),
  lazyCommand('merge', 'one profile from several runs of the same app', 'app', () => import('./commands/merge.js')),
  lazyCommand('render', 'a saved profile for another Node, directory or format', 'nothing', () => import('./commands/render.js')),
  lazyCommand('explain', 'why each grant of a saved profile is there, and who asked', 'nothing', () => import('./commands/explain.js')),
];

/** The commands named by a word after `permlearn`; without one, `learn` (the default) runs. */
export const COMMANDS: readonly Command<unknown>[] = [run as Command<unknown>, ...LAZY_COMMANDS, record as Command<unknown>];

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

/**
 * The command argv names and the argv it parses (without the command's word). The word is the first one that
 * is not an option or an option's value, so `permlearn --node X run -- …` is the run command too.
 */
export function commandOf(argv: readonly string[]): { command: Command<unknown>; argv: string[]; parse?: () => Promise<Parsed<string, unknown>> } {
  // The learn command's parser says which options take a value; when learn is the command, it parses too.
  const parser = learnParser([...argv]);
  const at = firstPositional(parser, argv);
  const word = at === undefined ? undefined : argv[at]!;
  const named = COMMANDS.find((c) => c.name === word);
  if (named) return { command: named, argv: [...argv.slice(0, at), ...argv.slice(at! + 1)] };
  // `permlearn chek`: a typo of a command, unless a file of that name is there to learn.
  const hit =
    word !== undefined && !existsSync(word)
      ? closestMatch(
          word,
          COMMANDS.map((c) => c.name),
        )
      : undefined;
  if (hit) throw new PermlearnError('usage', `unknown command '${word}' (did you mean ${hit}?), and no file ${word} to learn`);
  return { command: learn as Command<unknown>, argv: [...argv], parse: () => parseLearnArgs([...argv], undefined, parser) };
}

/** Whatever happens, no app process outlives permlearn; a signal stops them all and ends permlearn with 130. */
function stopAppsOnSignals(reporter: Reporter): void {
  process.on('exit', killAllGroups);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllGroups();
      reporter.error(`interrupted (${sig}); every process of the app was stopped`);
      process.exit(EXIT.interrupted);
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  timingPhase('cli loaded');
  const env = colorEnv(argv, process.env);
  const reporter = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: false });
  try {
    const picked = commandOf(argv);
    const { command } = picked;
    const parsed = await (picked.parse ? picked.parse() : command.parse(picked.argv));
    timingPhase('parsed');
    if ('output' in parsed) {
      process.stdout.write(`${parsed.output}\n`);
      return EXIT.ok;
    }
    if (command.starts === 'app') {
      const platform = unsupportedPlatform(process.platform);
      if (platform) throw new PermlearnError('environment', platform);
      stopAppsOnSignals(reporter);
    } else if (command.starts === 'service') {
      // Signals go on to the service (recordCommand), which flushes its records and ends.
      process.on('exit', killAllGroups);
    }
    return await command.run(parsed.args, { env, reporter });
  } catch (err) {
    const { code, message } = describeError(err);
    reporter.error(message);
    return code;
  }
}
