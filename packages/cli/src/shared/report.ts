// The human report on stderr: progress while learning, then the grants and why each is there.
import { createColors } from 'picocolors';
import {
  permissionLabel,
  describeRefusal,
  renderGrantFlag,
  type Capabilities,
  type Denial,
  type LearnEvent,
  type Profile,
  type Rendered,
  type RunResult,
} from '@permlearn/core';

export interface ReportOptions {
  stream: NodeJS.WriteStream;
  color: boolean;
  quiet: boolean;
  /** Put before every line (`[api] `), when several apps report at once. */
  prefix?: string;
}

/**
 * Colour or not, by the usual conventions, strongest first: `--color`/`--no-color` (main.ts turns them
 * into FORCE_COLOR/NO_COLOR), NO_COLOR (any non-empty value), FORCE_COLOR (`0` or `false` turns colour
 * off, anything else on), then a terminal that is not TERM=dumb.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

/** Lines that rewrite themselves (`\r\x1b[K`) need a terminal that understands them. */
export function liveLinesEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

function describeDenial(d: Denial): string {
  if (d.code === 'ERR_DLOPEN_DISABLED') return 'native addon';
  const what = permissionLabel(d) || d.message || d.code;
  return d.resource ? `${what} ${d.resource}` : what;
}

function describeRun(r: RunResult): string {
  if (r.outcome === 'ready') {
    const failed = r.exercise?.find((e) => e.exitCode !== 0);
    return failed
      ? `ready by ${r.readyBy}, but the exercise \`${failed.command}\` ${failed.timedOut ? 'timed out' : `exited with code ${failed.exitCode}`}`
      : `ready by ${r.readyBy}`;
  }
  if (r.outcome === 'timeout') return 'no exit and no readiness signal in time';
  if (r.outcome === 'spawn-error') return `could not start: ${r.error}`;
  return r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
}

/** Notes about how to use the chosen output format, shown after learning too. */
const FORMAT_NOTES: ReadonlySet<string> = new Set(['usage', 'absolute-paths', 'config-relative', 'node-options-reach', 'outside-project']);

export class Reporter {
  private readonly c;
  private readonly live: boolean;
  private liveText = '';
  private readonly started = Date.now();
  private auditRun = 0;
  /** A run that failed, said once the events after it show it taught nothing (its `denied` lines say it otherwise). */
  private failedRun: { run: number; text: string } | undefined;

  constructor(private readonly opts: ReportOptions) {
    this.c = createColors(opts.color);
    this.live = liveLinesEnabled(opts.stream, process.env) && !opts.quiet && !opts.prefix;
  }

  private line(text: string): void {
    if (this.opts.quiet) return;
    this.clearLive();
    const prefix = this.opts.prefix;
    this.opts.stream.write(
      `${
        prefix
          ? text
              .split('\n')
              .map((l) => `${prefix}${l}`)
              .join('\n')
          : text
      }\n`,
    );
  }

  private setLive(text: string): void {
    if (!this.live) return;
    const width = this.opts.stream.columns || 100;
    // Live lines are plain: cutting a coloured string to the terminal width would cut its escapes.
    text = text.replace(/\x1b\[[0-9;]*m/g, '');
    this.liveText = text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text;
    this.opts.stream.write(`\r\x1b[K${this.liveText}`);
  }

  private clearLive(): void {
    if (this.liveText) {
      this.opts.stream.write('\r\x1b[K');
      this.liveText = '';
    }
  }

  start(entry: string, caps: Capabilities): void {
    this.line(`${this.c.bold('permlearn')} learning ${entry} under Node ${caps.version.raw} (${caps.enableFlag})`);
  }

  event(e: LearnEvent): void {
    const { c } = this;
    switch (e.type) {
      case 'run-start':
        this.flushFailedRun();
        if (e.phase === 'audit' || e.phase === 'observe') this.auditRun = e.run;
        this.setLive(
          `run ${e.run}${e.phase === 'learn' ? '' : ` (${e.phase === 'verify' ? 'verification' : e.phase})`} · ${e.grants} grant${e.grants === 1 ? '' : 's'} …`,
        );
        break;
      case 'granted': {
        if (this.failedRun?.run === e.run) this.failedRun = undefined;
        if (e.run === this.auditRun) break; // summarised by 'audit-done'
        const text = `run ${e.run}  ${c.yellow('denied')} ${describeDenial(e.denial)}  → ${c.cyan(renderGrantFlag(e.grant))}`;
        if (this.live) this.setLive(text);
        else this.line(text);
        break;
      }
      case 'audit-done':
        this.line(`run ${e.run}  ${c.blue('audit')}: ${e.events} checks reported, ${e.candidates} to grant; confirming in enforce mode`);
        break;
      case 'observe-done':
        this.line(
          `run ${e.run}  ${c.blue('observe')} (${e.root} readable): ${e.modules} modules loaded, ${e.candidates} to grant; confirming without the wide grant`,
        );
        break;
      case 'prime-done':
        this.line(`run ${e.run}  ${c.blue(e.strategy)}: ${e.candidates} to grant; confirming in enforce mode`);
        break;
      case 'minimized': {
        if (e.outcome === 'kept') break;
        const what = e.outcome === 'removed' ? c.green('not needed') : `${c.green('narrowed')} to ${e.to?.length ?? 0} path${e.to?.length === 1 ? '' : 's'}`;
        this.line(`run ${e.run}  ${c.blue('minimize')}: ${c.cyan(renderGrantFlag(e.grant))} ${what}`);
        break;
      }
      case 'widened':
        this.line(`run ${e.run}  ${c.magenta('widened')} ${e.from} → ${e.to} (${e.because})`);
        break;
      case 'set-aside': {
        const what = e.because.permission === 'WASI' ? 'WASI' : 'the native addon';
        this.line(
          `run ${e.run}  ${c.magenta('set aside')} ${e.grants.length} grant${e.grants.length === 1 ? '' : 's'} the app needed only while ${what} was denied (its loader's fallback): ${e.grants.map((g) => renderGrantFlag(g)).join(' ')}`,
        );
        break;
      }
      case 'delivery':
        this.line(`run ${e.run}  ${c.magenta('NODE_OPTIONS')}: ${e.because}; from now on every flag goes in NODE_OPTIONS, which such a child still reads`);
        break;
      case 'restored':
        this.line(`run ${e.run}  ${c.magenta('restored')} ${e.grants.length} set-aside grant${e.grants.length === 1 ? '' : 's'}: the app needed one after all`);
        break;
      case 'run-end':
        if (e.phase === 'audit' || e.phase === 'observe' || e.phase === 'minimize') break;
        if (e.phase === 'verify') this.line(`run ${e.run}  verification: ${describeRun(e.result)}`);
        else if (e.result.outcome === 'ready' || (e.result.outcome === 'exited' && e.result.exitCode === 0)) {
          this.line(`run ${e.run}  ${c.green('started cleanly')} (${describeRun(e.result)})`);
        } else {
          // A run that failed: said unless it teaches something (the one that ends a failed learn), so every run shows.
          this.failedRun = { run: e.run, text: `run ${e.run}  ${e.phase === 'learn' ? '' : `${e.phase}: `}${describeRun(e.result)}` };
        }
        break;
    }
  }

  private flushFailedRun(): void {
    if (this.failedRun) this.line(this.failedRun.text);
    this.failedRun = undefined;
  }

  summary(profile: Profile): void {
    const { c } = this;
    this.flushFailedRun();
    this.clearLive();
    if (this.opts.quiet) {
      // Quiet drops the report, never the reason it failed.
      if (!profile.verified) this.error(`${profile.status}: ${profile.reason ?? 'learning failed'}`);
      return;
    }
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const out: string[] = [''];
    if (profile.verified) out.push(c.green(`✔ verified in ${profile.runs} runs (${secs} s)`));
    else out.push(c.red(`✖ ${profile.status}: ${profile.reason ?? ''}`));
    const m = profile.minimized;
    if (m) {
      out.push(
        `minimize: ${m.removed.length} removed, ${m.narrowed.length} narrowed${m.untried.length ? `, ${m.untried.length} untried (run budget spent)` : ''}`,
      );
      for (const f of m.removed) out.push(`  ${c.dim('removed')} ${f}`);
      for (const n of m.narrowed) out.push(`  ${c.dim('narrowed')} ${n.from} → ${n.to.length} path${n.to.length === 1 ? '' : 's'}`);
    }
    const byScope = new Map<string, Profile['grants']>();
    for (const g of profile.grants) {
      const list = byScope.get(g.scope);
      if (list) list.push(g);
      else byScope.set(g.scope, [g]);
    }
    if (profile.grants.length === 0 && profile.verified) out.push('  no grants needed beyond the enable flag');
    for (const [scope, grants] of byScope) {
      out.push(c.bold(scope));
      for (const g of grants) {
        const first = g.denials[0];
        const asker = first?.by ? ` by ${first.by}${first.at ? ` (${first.at})` : ''}` : first?.site ? ` at ${first.site}` : '';
        const why = first ? `${describeDenial(first)}${asker}` : '';
        const more = g.denials.length > 1 ? ` (+${g.denials.length - 1} more)` : '';
        out.push(`  ${c.cyan(g.flag)}  ${c.dim(`← ${why}${more}`)}`);
        for (const n of g.notes) out.push(`    ${c.dim(n.detail)}`);
        if (g.exposes && g.kind !== 'file' && g.kind !== 'missing')
          out.push(`    ${c.dim(`covers ${g.exposes.files} file${g.exposes.files === 1 ? '' : 's'} today`)}`);
        if (g.risk) out.push(`    ${c.yellow(`⚠ ${g.risk}`)}`);
      }
    }
    for (const u of profile.ungrantable) out.push(c.red(`cannot be granted: ${u.reason}${u.denial.site ? ` (at ${u.denial.site})` : ''}`));
    // What was refused as too broad; when that stopped learning the reason above already says it.
    // A refusal a verified profile did without was a lookup the app survives: said as such, not as advice.
    if (profile.status !== 'too-broad')
      for (const r of profile.refused ?? [])
        out.push(c.yellow(`not granted, too broad${profile.verified ? ' (the app verified without it)' : ''}: ${describeRefusal(r)}`));
    if (profile.observed.length) {
      out.push(c.bold('seen but not granted (the app survived these):'));
      for (const d of profile.observed.slice(0, 20)) out.push(`  ${describeDenial(d)}${d.site ? c.dim(` at ${d.site}`) : ''}`);
      if (profile.observed.length > 20) out.push(`  … ${profile.observed.length - 20} more (see --format json)`);
    }
    for (const e of profile.exercise?.results ?? []) {
      const secs = (e.durationMs / 1000).toFixed(1);
      if (e.exitCode === 0) out.push(`${c.green('✔')} exercise \`${e.command}\` (${secs} s)`);
      else
        out.push(
          c.red(
            `✖ exercise \`${e.command}\` ${e.timedOut ? 'timed out' : `exited with code ${e.exitCode}`} (${secs} s)${e.outputTail ? `\n    ${e.outputTail.trimEnd().split('\n').slice(-5).join('\n    ')}` : ''}`,
          ),
        );
    }
    const plan = profile.dropPlan;
    if (plan) {
      out.push(
        c.bold('drop plan') +
          (plan.drops.length || plan.keep.length
            ? `: ${plan.drops.length} to drop after start-up, ${plan.keep.length} kept, ${plan.verified ? c.green('verified') : c.red('not verified')}`
            : ''),
      );
      for (const n of plan.notes) out.push(`  ${c.yellow(n)}`);
    }
    const aside = profile.setAside ?? [];
    if (aside.length) {
      const optional = aside.filter((s) => s.optional);
      const needed = aside.filter((s) => !s.optional);
      if (optional.length) out.push(c.bold("left out (the app runs without them, and they change from run to run or are permlearn's own):"));
      for (const s of shorten(optional)) out.push(`  ${s.scope} ${s.path} ${c.dim(`(${s.kind})`)}`);
      for (const s of needed) out.push(c.red(`not granted: ${s.reason}`));
    }
    if (profile.environment?.removed.length) {
      out.push(c.dim(`environment: left out what permlearn's launcher had set (${summariseRemoved(profile.environment.removed)})`));
    }
    const m2 = profile.machine;
    if (m2) {
      const what = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
      out.push(
        c.bold('what learning did to this machine:') +
          ` the app ran for real ${what(m2.runs, 'time')}; it created ${what(m2.created.length, 'path')} and changed ${m2.changed.length} existing`,
      );
      for (const p of [...m2.created.slice(0, 10).map((p) => `created ${p}`), ...m2.changed.slice(0, 10).map((p) => `changed ${p}`)]) out.push(`  ${c.dim(p)}`);
      if (m2.kept) out.push(`  ${c.yellow(`kept as the last run left them (--keep-outputs): ${m2.kept.length ? m2.kept.join(', ') : 'nothing'}`)}`);
      else if (m2.restored) out.push(`  ${c.green('all put back as it was before learning')}`);
      for (const u of m2.unrestored) out.push(`  ${c.red(`not put back: ${u}`)}`);
    }
    for (const w of profile.warnings) out.push(c.yellow(`warning: ${w}`));
    this.line(out.join('\n'));
  }

  /**
   * What rendering found. `all`: every warning and note (permlearn render). Otherwise (after learning) the
   * warnings about the profile as a whole and the notes that come from the chosen format or --relative: the
   * summary already shows each grant's risk, and the general notes are in the JSON.
   */
  findings(rendered: Rendered, { all }: { all: boolean }): void {
    if (this.opts.quiet) return;
    const { c } = this;
    const out: string[] = [];
    for (const w of rendered.warnings) {
      if (all || w.flag === undefined) out.push(c.yellow(`warning: ${w.flag && !w.message.includes(w.flag) ? `${w.flag}: ` : ''}${w.message}`));
    }
    for (const n of rendered.notes) if (all || FORMAT_NOTES.has(n.code)) out.push(c.dim(`note: ${n.message}`));
    if (out.length) this.line(out.join('\n'));
  }

  /** The end of the app's stderr; and of its stdout when it never became ready (what a --ready-stdout
   *  pattern should have matched). */
  failureTail(stderrTail: string, last?: { outcome: RunResult['outcome']; stdoutTail?: string }): void {
    if (this.opts.quiet) return;
    const show = (what: string, text: string) => {
      const lines = text.trimEnd().split('\n').slice(-15);
      this.opts.stream.write(`${this.c.dim(`--- the app's ${what} (last lines) ---`)}\n${lines.join('\n')}\n${this.c.dim('---')}\n`);
    };
    if (stderrTail.trim()) show('stderr', stderrTail);
    if (last?.outcome === 'timeout') {
      if (last.stdoutTail?.trim()) show('stdout', last.stdoutTail);
      else this.line(this.c.dim('(the app printed nothing on stdout)'));
    }
  }

  /** A line of text, as is. */
  note(text: string): void {
    this.line(text);
  }

  warning(text: string): void {
    this.line(this.c.yellow(`warning: ${text}`));
  }

  error(message: string): void {
    this.clearLive();
    this.opts.stream.write(`${this.c.red('permlearn:')} ${message}\n`);
  }
}

/** A long list of set-aside paths, five at most, the rest counted. */
function shorten<T>(list: readonly T[]): T[] {
  return list.slice(0, 5).concat(list.length > 5 ? [{ scope: '', path: `… ${list.length - 5} more (see --format json)`, kind: 'more' } as T] : []);
}

function summariseRemoved(removed: readonly string[]): string {
  const entries = removed.filter((r) => r.includes(' entry '));
  const vars = removed.length - entries.length;
  return [...entries, ...(vars ? [`${vars} package-manager variable${vars === 1 ? '' : 's'}`] : [])].join(', ');
}
