// What a command is to main.ts: a name, a parser (argv to its options, or --help text) and a handler
// that returns the exit code. main.ts keeps the registry and handles signals, errors and the exit code once.
import type { Parsed } from './options.js';
import type { Reporter } from './report.js';

export interface CommandContext {
  /** The environment, with `--color` / `--no-color` already turned into FORCE_COLOR / NO_COLOR. */
  env: NodeJS.ProcessEnv;
  /** For messages that belong to no one report: errors, an interruption. Never quiet. */
  reporter: Reporter;
}

export interface Command<A> {
  /** The word after `permlearn` (the default command, learning an entry, has none). */
  name: string;
  /** One line for the list of commands. */
  describe: string;
  /**
   * What the command starts. `app`: an app permlearn runs itself (a supported platform is needed, and a
   * signal stops every process of it). `service`: a command the user stops (the signal goes on to it).
   */
  starts: 'app' | 'service' | 'nothing';
  /** argv without the command's own word. */
  parse(argv: string[]): Promise<Parsed<string, A>>;
  run(args: A, ctx: CommandContext): Promise<number>;
}
