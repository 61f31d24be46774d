// The CLI's conventions, spawned as a user runs it: version and help, suggestions for typos, --quiet
// keeping errors, colour and live lines by flag, environment and terminal (a real TTY through
// `script`), and the app's stdout when a readiness pattern never matched.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../packages/cli/src/exit-codes.js';
import { COMMANDS } from '../../packages/cli/src/main.js';
import { baseEnv, cliPath, copyFixture, leftoverProcesses, nodeBinary, removeCopies, root, runCli } from '../helpers/e2e.js';

afterEach(async () => {
  expect(await leftoverProcesses()).toEqual([]);
  removeCopies();
});

const version = JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8')).version as string;
const node26 = nodeBinary(26);
const ESC = '\x1b[';

describe('version and help', () => {
  it.each([['--version'], ['-v'], ['check', '--version']])('%s prints the version alone', async (...args) => {
    const r = await runCli(args);
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, version, '']);
  });

  /** Every command with the option groups its --help shows (a new command gets a row: the next test asks). */
  const HELP: [string[], string[]][] = [
    [[], ['Readiness', 'Learning:', 'Output:', 'Several apps:', 'General:']],
    [['run'], ['Readiness', 'Learning:', 'Output:']],
    [['check'], ['Checking:', 'Readiness', 'Learning:']],
    [['merge'], ['Learning:', 'Output:']],
    [['render'], ['Target:', 'Output:']],
    [['explain'], ['General:']],
    [['record'], ['Options:', 'General:']],
  ];

  it('the help cases cover every command main.ts knows', () => {
    expect(HELP.map(([command]) => command[0] ?? '').sort()).toEqual(['', ...COMMANDS.map((c) => c.name)].sort());
  });

  it.each(HELP)('permlearn %j --help and -h: usage, option groups, examples, every exit code', async (command, groups) => {
    for (const flag of ['--help', '-h']) {
      const r = await runCli([...command, flag]);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(r.stderr).toBe('');
      const out = String(r.stdout);
      expect(out).toMatch(new RegExp(`^Usage: permlearn${command.length ? ` ${command[0]}` : ''} `));
      for (const g of groups) expect(out).toMatch(new RegExp(`^${g}`, 'm'));
      const examples = out.slice(out.indexOf('\nExamples:\n'), out.indexOf('\nExit codes:\n'));
      expect(examples.split('\n').filter((l) => l.startsWith('  permlearn')).length, out).toBeGreaterThanOrEqual(2);
      const codes = [...out.slice(out.indexOf('\nExit codes:\n')).matchAll(/^ {2}(\d+) {2,}/gm)].map((m) => Number(m[1]));
      expect(codes).toEqual(Object.values(EXIT));
    }
  });

  it('the format help names every output format', async () => {
    const r = await runCli(['--help']);
    for (const f of ['flags', 'args', 'json', 'node-options', 'config', 'package-json', 'drop-plan']) expect(String(r.stdout)).toContain(`${f}:`);
  });
});

describe('the command word may follow options', () => {
  it('permlearn --node X -q run -- … is the run command, as permlearn run --node X -q -- … is', async () => {
    const dir = copyFixture('scopes/read-config');
    const before = await runCli(['run', '--node', node26, '-q', '--', node26, 'index.js'], { cwd: dir });
    const after = await runCli(['--node', node26, '-q', 'run', '--', node26, 'index.js'], { cwd: dir });
    expect(before.exitCode, String(before.stderr)).toBe(0);
    expect(String(before.stdout)).toMatch(/^--permission /);
    expect([after.exitCode, after.stdout, after.stderr]).toEqual([0, before.stdout, '']);
  });
});

describe('typos get a suggestion, exit 2', () => {
  it.each([
    [['--ready-prot', '3000', 'app.js'], 'unknown option --ready-prot (did you mean --ready-port?)'],
    [['--granulartiy', 'file', 'app.js'], 'unknown option --granulartiy (did you mean --granularity?)'],
    [['--no-minimze', 'app.js'], 'unknown option --no-minimze (did you mean --no-minimize?)'],
    [['--fromat=json', 'app.js'], 'unknown option --fromat (did you mean --format?)'],
    [['--frobnicate', 'app.js'], 'unknown option --frobnicate (see --help)'],
    [['-x', 'app.js'], 'unknown option -x (see --help)'],
    [['check', '--stirct'], 'unknown option --stirct (did you mean --strict?)'],
    [['render', 'p.json', '--node-verison', '22'], 'unknown option --node-verison (did you mean --node-version?)'],
    [['explain', '--colour', 'p.json'], 'unknown option --colour (did you mean --color?)'],
    [['chek'], "unknown command 'chek' (did you mean check?), and no file chek to learn"],
    [['rendr', 'p.json'], "unknown command 'rendr' (did you mean render?), and no file rendr to learn"],
  ])('%j', async (args, message) => {
    const dir = copyFixture('scopes/read-config');
    const r = await runCli(args, { cwd: dir });
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([EXIT.usage, '', `permlearn: ${message}`]);
  });

  it("an argument after -- is the app's, never checked", async () => {
    const dir = copyFixture('scopes/read-config');
    const r = await runCli(['--node', node26, '-q', 'index.js', '--', '--ready-prot'], { cwd: dir });
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
  });

  it('a file named like a mistyped command is learned, not corrected', async () => {
    const dir = copyFixture('scopes/read-config');
    writeFileSync(path.join(dir, 'chek'), "console.log('ok: chek');\n");
    const r = await runCli(['--node', node26, '-q', 'chek'], { cwd: dir });
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, '--permission', '']);
  });
});

describe('--quiet keeps errors', () => {
  it.each([
    [['failing/not-permission', 'index.js'], [], EXIT.appFailed, 'permlearn: app-failed: the app exited with code 1 without a permission denial'],
    [
      ['failing/wrong-ready', 'index.js'],
      ['--strategy', 'rerun', '--max-run-time', '1', '--ready-stdout', 'listening'],
      EXIT.appFailed,
      'permlearn: app-failed: the app did not become ready in time (no stdout line matching /listening/ came), and no permission was denied',
    ],
    [['scopes/read-config', 'index.js'], [], EXIT.ok, ''],
    [['scopes/read-config', 'missing.js'], [], EXIT.usage, /^permlearn: entry file .*missing\.js does not exist$/],
  ] as const)('%j %j → exit %i, stderr only the error', async ([fixture, entry], extra, code, stderr) => {
    const dir = copyFixture(fixture);
    const r = await runCli(['--node', node26, ...extra, '-q', entry], { cwd: dir });
    expect(r.exitCode).toBe(code);
    if (typeof stderr === 'string') expect(r.stderr).toBe(stderr);
    else expect(r.stderr).toMatch(stderr);
  });
});

describe('a readiness pattern that never matches', () => {
  it("names the pattern and shows the app's stdout", async () => {
    const dir = copyFixture('failing/wrong-ready');
    const r = await runCli(['--node', node26, '--strategy', 'rerun', '--max-run-time', '1', '--ready-stdout', 'listening', 'index.js'], { cwd: dir });
    expect(r.exitCode).toBe(EXIT.appFailed);
    expect(r.stderr).toContain('✖ app-failed: the app did not become ready in time (no stdout line matching /listening/ came)');
    expect(r.stderr).toContain("--- the app's stdout (last lines) ---\nbooting\nstarted on port 4100\n---");
    expect(r.stderr).not.toContain('pass --ready-port');
  });
});

/** Run the CLI with its stderr and stdout on a pseudo-terminal (`script`), or on pipes. */
async function runAs(tty: boolean, args: string[], env: Record<string, string>, cwd: string) {
  const environment = { PATH: baseEnv.PATH, HOME: baseEnv.HOME, TERM: 'xterm-256color', ...env };
  const quoted = [process.execPath, cliPath, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = tty
    ? await execa('script', ['-qec', quoted, '/dev/null'], { cwd, env: environment, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 })
    : await execa(process.execPath, [cliPath, ...args], { cwd, env: environment, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 });
  return { exitCode: r.exitCode, text: tty ? String(r.stdout) : String(r.stderr) };
}

describe('colour and live lines', () => {
  it.each([
    // tty, args, env, colour, live lines
    [false, [], {}, false, false],
    [false, [], { FORCE_COLOR: '1' }, true, false],
    [false, ['--color'], {}, true, false],
    [true, [], {}, true, true],
    [true, [], { FORCE_COLOR: '0' }, false, true],
    [true, [], { NO_COLOR: '1' }, false, true],
    [true, [], { NO_COLOR: '' }, true, true],
    [true, ['--no-color'], {}, false, true],
    [true, ['--no-color'], { FORCE_COLOR: '1' }, false, true],
    [true, ['--color'], { NO_COLOR: '1' }, true, true],
    [true, [], { TERM: 'dumb' }, false, false],
    [true, ['--color'], { TERM: 'dumb' }, true, false],
  ] as const)('tty %s, %j, %j → colour %s, live lines %s', async (tty, args, env, colour, live) => {
    const dir = copyFixture('scopes/read-config');
    const r = await runAs(tty, ['--node', node26, ...args, 'index.js'], env, dir);
    expect(r.exitCode, r.text).toBe(0);
    expect(r.text).toContain('verified in');
    expect(/\x1b\[[0-9;]*m/.test(r.text), r.text).toBe(colour);
    expect(r.text.includes('\r\x1b[K'), r.text).toBe(live);
  });

  it('a usage error is coloured on a terminal, plain with --no-color', async () => {
    const dir = copyFixture('scopes/read-config');
    expect((await runAs(true, ['--ready-prot', '1'], {}, dir)).text).toContain(`${ESC}31mpermlearn:`);
    expect((await runAs(true, ['--no-color', '--ready-prot', '1'], {}, dir)).text).toMatch(/^permlearn: unknown option --ready-prot/);
  });
});
