// Which command argv names, and what it hands that command: the word may come after options.
import { describe, expect, it } from 'vitest';
import { LAZY_COMMANDS, commandOf } from './main.js';

describe('commandOf', () => {
  it.each<[string[], string, string[]]>([
    [['run', '--', 'npm', 'start'], 'run', ['--', 'npm', 'start']],
    [['--node', '/x/node', 'run', '--', 'npm', 'start'], 'run', ['--node', '/x/node', '--', 'npm', 'start']],
    [['-q', '--ready-port', '3000', 'run', '--', 'npm', 'start'], 'run', ['-q', '--ready-port', '3000', '--', 'npm', 'start']],
    [['--max-runs=4', 'check', '--strict'], 'check', ['--max-runs=4', '--strict']],
    [['--node', 'run'], '', ['--node', 'run']], // `run` is the value of --node
    [['app.js', 'run'], '', ['app.js', 'run']], // an app argument
    [['--', 'run'], '', ['--', 'run']],
    [['--quiet'], '', ['--quiet']],
    [[], '', []],
  ])('%j is the %j command with %j', (argv, name, rest) => {
    const picked = commandOf(argv);
    expect(picked.command.name).toBe(name);
    expect(picked.argv).toEqual(rest);
  });

  it.each([[['chek']], [['--node', '/x/node', 'chek']]])('%j is a typo of a command', (argv) => {
    expect(() => commandOf(argv)).toThrow("unknown command 'chek' (did you mean check?), and no file chek to learn");
  });
});

describe('the commands loaded when picked', () => {
  it.each(LAZY_COMMANDS.map((c) => [c.name, c] as const))('%s says of itself what its module says', async (_, lazy) => {
    const real = await lazy.load();
    expect({ name: lazy.name, describe: lazy.describe, starts: lazy.starts }).toEqual({ name: real.name, describe: real.describe, starts: real.starts });
  });
});
