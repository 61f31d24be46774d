// `permlearn run [options] -- <command...>`: learn every Node process a command starts. The learn command's
// parser and handler, with the app given as a command instead of an entry.
import type { Command } from '../shared/command.js';
import { parseLearnArgs, runLearn, type LearnArgs } from './learn.js';

const RUN = {
  usage:
    '$0 [options] -- <command...>\n\nLearn what every Node process a command starts needs (npm start, node --import tsx src/server.ts, a test runner): the flags and the recorder travel in NODE_OPTIONS.',
  examples: [
    ['$0 --ready-port 3000 -- npm start', 'the start script, run directly (npm itself is not learned)'],
    ['$0 --ready-stdout listening -- node --import tsx src/server.ts', 'a TypeScript server, ready when it prints "listening"'],
  ],
} as const;

/** `permlearn run …` (argv without the word `run`). */
export const parseRunArgs = (argv: string[]) => parseLearnArgs(argv, RUN);

export const command: Command<LearnArgs> = {
  name: 'run',
  describe: 'learn what every Node process a command starts needs',
  starts: 'app',
  parse: parseRunArgs,
  run: (args, ctx) => runLearn(args, ctx.env),
};
