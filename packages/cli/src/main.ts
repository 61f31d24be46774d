// permlearn's command line: parse, learn, print. The one place that catches errors and picks an exit code.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { PermlearnError, assertFormatFor, killAllGroups, learnApp, probeNode, renderProfile } from '@permlearn/core';
import { parseArgs, parseRenderArgs } from './args.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { Reporter, colorEnabled } from './report.js';
import { explainProfile, readProfile } from './explain.js';
import { capabilitiesOfProfile, emit, findProjectRoot, renderCommand } from './render-command.js';

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

export async function main(argv: string[]): Promise<number> {
  const env = process.env;
  const reporter = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: false });
  try {
    if (argv[0] === 'explain') {
      const files = argv.slice(1).filter((a) => !a.startsWith('-'));
      if (files.length !== 1) throw new PermlearnError('usage', 'usage: permlearn explain <profile.json>');
      process.stdout.write(explainProfile(readProfile(files[0]!), colorEnabled(process.stdout, env)));
      return EXIT.ok;
    }
    const parsed = argv[0] === 'render' ? await parseRenderArgs(argv.slice(1)) : await parseArgs(argv);
    if (parsed.kind === 'done') {
      process.stdout.write(`${parsed.output}\n`);
      return EXIT.ok;
    }
    if (parsed.kind === 'render') {
      const renderReport = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: parsed.args.quiet });
      return await renderCommand(parsed.args, renderReport);
    }
    const args = parsed.args;
    const report = new Reporter({ stream: process.stderr, color: colorEnabled(process.stderr, env), quiet: args.quiet });
    installSignalHandlers(report);
    const entry = path.resolve(args.entry);
    if (args.out && existsSync(args.out) && !args.force) {
      throw new PermlearnError('usage', `${path.resolve(args.out)} already exists; pass --force to overwrite it`);
    }
    if (args.format === 'config') {
      // Refuse before learning, not after: only some Node versions honour a config file's permissions.
      assertFormatFor(args.format, await probeNode(args.node ?? process.execPath));
    }
    const { profile, result } = await learnApp({
      entry,
      args: args.appArgs,
      ...(args.cwd ? { cwd: args.cwd } : {}),
      ...(args.node ? { node: args.node } : {}),
      readiness: args.readiness,
      strategy: args.strategy,
      granularity: args.granularity,
      minimize: args.minimize,
      ...(args.root !== undefined ? { root: args.root } : {}),
      maxRuns: args.maxRuns,
      maxRunMs: args.maxRunMs,
      graceMs: args.graceMs,
      onStart: (caps) => report.start(entry, caps),
      onEvent: (e) => report.event(e),
    });
    report.summary(profile);
    if (result.status === 'app-failed' || result.status === 'verify-failed' || result.status === 'no-progress') {
      report.failureTail(result.last?.stderrTail ?? '');
    }
    // A profile that did not verify is printed only as JSON (where `verified` says so), never as flags.
    if (profile.verified || args.format === 'json') {
      const rendered = renderProfile(profile, {
        format: args.format,
        target: capabilitiesOfProfile(profile),
        relative: args.relative,
        root: findProjectRoot(profile.cwd),
      });
      report.findings(rendered, { all: false });
      emit(rendered.text, args.out, args.force);
    }
    return exitCodeOf(result.status);
  } catch (err) {
    if (err instanceof PermlearnError) {
      reporter.error(err.message);
      return err.kind === 'usage' ? EXIT.usage : EXIT.internal;
    }
    reporter.error(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    return EXIT.internal;
  }
}
