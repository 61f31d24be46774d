// How `permlearn check` says what it found: a diff for people (stderr), JSON (stdout with --format json),
// Markdown for the GitHub job summary, and ::error/::warning workflow commands for GitHub annotations.
// The findings themselves come from core's compareProfiles; this file only words them.
import path from 'node:path';
import { createColors } from 'picocolors';
import {
  displayFlag,
  displayPath,
  permissionLabel,
  resolveResource,
  type Denial,
  type Layout,
  type LearnStatus,
  type ProfileComparison,
} from '@permlearn/core';
import { shortPath } from '../shared/paths.js';
import { mdCell, mdCode, mdTable } from '../shared/table.js';

export type CheckStatus =
  /** the committed profile verified and nothing new is needed */
  | 'ok'
  /** the app needs grants the committed profile lacks */
  | 'new-needs'
  /** --strict: committed grants nothing asked for */
  | 'unused'
  /** nothing new was seen, yet the committed profile did not start the app */
  | 'committed-failed'
  /** checking this app stopped on an error (one of several apps: the others go on) */
  | 'error'
  /** relearning failed: how (app-failed, no-progress, …) */
  | Exclude<LearnStatus, 'verified'>;

export interface CheckOutcome {
  /** The committed profile. */
  profile: string;
  name: string;
  status: CheckStatus;
  exitCode: number;
  /** Why, in one sentence, when the status is not ok. */
  reason?: string;
  comparison?: ProfileComparison;
  /** Whether the committed profile started the app (undefined: not tried). */
  committedVerified?: boolean;
  strict: boolean;
  suggested?: string;
  written: boolean;
  runs?: number;
  /** The fresh run's warnings (a server learned from start-up alone, …). */
  warnings?: string[];
}

/** A denial as evidence: what was asked for, by whom, from where. */
export interface Evidence {
  permission: string;
  resource: string;
  by?: string;
  at?: string;
  site?: string;
}

function evidenceOf(d: Denial, layout: Layout): Evidence {
  const isFs = (d.permission === 'FileSystemRead' || d.permission === 'FileSystemWrite') && d.resource !== '';
  const e: Evidence = {
    permission: permissionLabel(d) || d.code,
    resource: isFs ? displayPath(resolveResource(d.resource, d.cwd ?? layout.cwd), layout) : d.resource,
  };
  if (d.by) e.by = d.by;
  if (d.at) e.at = d.at;
  if (d.site) e.site = d.site;
  return e;
}

function describeEvidence(e: Evidence): string {
  const what = e.resource ? `${e.permission} ${e.resource}` : e.permission;
  const who = e.by ? ` by ${e.by}${e.at ? ` (${e.at})` : ''}` : e.site ? ` at ${e.site}` : '';
  return `${what}${who}`;
}

/** The outcome as JSON data (`--format json`). */
export function checkJson(o: CheckOutcome): Record<string, unknown> {
  const cmp = o.comparison;
  const layout = cmp?.layout;
  return {
    profile: o.profile,
    name: o.name,
    status: o.status,
    exitCode: o.exitCode,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(cmp && layout
      ? {
          node: { committed: cmp.committedNode, current: cmp.currentNode },
          added: cmp.added.map((a) => ({
            scope: a.scope,
            flag: displayFlag(a, layout),
            grant: a.flag,
            evidence: a.evidence.map((d) => evidenceOf(d, layout)),
          })),
          unused: cmp.unused.map((u) => ({
            scope: u.scope,
            flag: displayFlag(u, layout),
            grant: u.flag,
            grantedFor: u.evidence.map((d) => evidenceOf(d, layout)),
          })),
          kept: cmp.kept,
        }
      : {}),
    committedVerified: o.committedVerified ?? null,
    strict: o.strict,
    ...(o.suggested ? { suggested: o.suggested } : {}),
    written: o.written,
    warnings: o.warnings ?? [],
  };
}

function headline(o: CheckOutcome, file: string): string {
  const n = o.comparison?.added.length ?? 0;
  const u = o.comparison?.unused.length ?? 0;
  switch (o.status) {
    case 'ok':
      return `${file} is up to date: it still starts the app and nothing new is needed${u ? ` (${u} grant${u === 1 ? '' : 's'} no longer used)` : ''}`;
    case 'new-needs':
      return `the app needs ${n} grant${n === 1 ? '' : 's'} that ${file} lacks`;
    case 'unused':
      return `${file} has ${u} grant${u === 1 ? '' : 's'} nothing asked for (--strict)`;
    case 'committed-failed':
      return `${file} no longer starts the app, although nothing new was seen: ${o.reason ?? ''}`;
    default:
      return `could not learn the app again (${o.status})${o.reason ? `: ${o.reason}` : ''}`;
  }
}

/** The human diff, for stderr. */
export function checkText(o: CheckOutcome, color: boolean, from = process.cwd()): string {
  const c = createColors(color);
  const file = shortPath(o.profile, from);
  const out: string[] = [];
  const cmp = o.comparison;
  if (cmp) {
    const layout = cmp.layout;
    out.push(c.bold(`permlearn check: ${file} (learned under ${cmp.committedNode}) against a fresh run under ${cmp.currentNode}`));
    for (const a of cmp.added) {
      out.push(`${c.green('+')} ${c.cyan(displayFlag(a, layout))}`);
      for (const d of a.evidence.slice(0, 5)) out.push(`    ${c.dim('←')} ${describeEvidence(evidenceOf(d, layout))}`);
      if (a.evidence.length > 5) out.push(c.dim(`    … ${a.evidence.length - 5} more`));
    }
    for (const u of cmp.unused) {
      const why = u.evidence[0] ? `, granted for ${describeEvidence(evidenceOf(u.evidence[0], layout))}` : '';
      out.push(`${c.red('-')} ${c.cyan(displayFlag(u, layout))}  ${c.dim(`no longer used${why}`)}`);
    }
    if (cmp.committedNode.split('.')[0] !== cmp.currentNode.split('.')[0]) {
      out.push(
        c.yellow(`warning: ${file} was learned under ${cmp.committedNode} and checked under ${cmp.currentNode}; run the check under the Node the app runs on`),
      );
    }
    for (const s of cmp.unenforced) out.push(c.dim(`note: ${cmp.currentNode} does not restrict '${s}', so whether the app still needs it was not tested`));
  }
  for (const w of o.warnings ?? []) out.push(c.yellow(`warning: ${w}`));
  const ok = o.exitCode === 0;
  out.push((ok ? c.green('✔ ') : c.red('✖ ')) + headline(o, file) + (ok ? '' : ` (exit ${o.exitCode})`));
  if (o.written) out.push(c.green(`✔ ${file} rewritten with the fresh profile`));
  if (o.suggested) out.push(`the proposed profile is in ${shortPath(o.suggested, from)}`);
  else if (!ok && cmp && !o.written) out.push(c.dim(`to accept the fresh profile: permlearn check --write (or --suggest <file> to look first)`));
  return `${out.join('\n')}\n`;
}

/** The Markdown section for $GITHUB_STEP_SUMMARY. */
export function checkMarkdown(o: CheckOutcome, from = process.cwd()): string {
  const file = shortPath(o.profile, from);
  const cmp = o.comparison;
  const icon = o.exitCode === 0 ? '✅' : '❌';
  const out: string[] = [`### permlearn check: ${mdCode(file)}`, '', `${icon} **${headline(o, mdCode(file))}**`, ''];
  if (cmp) {
    const layout = cmp.layout;
    if (cmp.added.length) {
      const rows = cmp.added.flatMap((a) =>
        a.evidence.map((d, i) => {
          const e = evidenceOf(d, layout);
          return [
            i === 0 ? mdCode(displayFlag(a, layout)) : '',
            `${e.permission}${e.resource ? ` ${mdCode(e.resource)}` : ''}`,
            e.by ?? '',
            e.at ? mdCode(e.at) : e.site ? mdCode(e.site) : '',
          ];
        }),
      );
      out.push(mdTable(['needed grant', 'asked for', 'by', 'where'], rows), '');
    }
    if (cmp.unused.length) {
      const title = `${cmp.unused.length} grant${cmp.unused.length === 1 ? '' : 's'} no longer used${o.strict ? '' : ' (a suggestion, not a failure)'}`;
      const rows = cmp.unused.map((u) => {
        const e = u.evidence[0] ? evidenceOf(u.evidence[0], layout) : undefined;
        return [mdCode(displayFlag(u, layout)), e ? `${e.permission}${e.resource ? ` ${mdCode(e.resource)}` : ''}${e.by ? ` by ${e.by}` : ''}` : ''];
      });
      out.push('<details>', `<summary>${title}</summary>`, '', mdTable(['grant', 'granted for'], rows), '', '</details>', '');
    }
    for (const w of o.warnings ?? []) out.push(`> ⚠️ ${mdCell(w)}`, '');
    out.push(`Checked under Node ${cmp.currentNode}${o.runs ? ` in ${o.runs} runs` : ''}; the profile was learned under ${cmp.committedNode}.`);
  }
  if (o.exitCode !== 0 && cmp) out.push(`To accept the fresh profile, run ${mdCode(`permlearn check --write`)} and commit ${mdCode(file)}.`);
  return `${out.join('\n')}\n\n`;
}

/** GitHub workflow commands: a property value and a message, escaped as the runner expects. */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `file:line:col` (or a file: URL) split, when it names a file. */
function splitSite(site: string): { file: string; line?: string; col?: string } | undefined {
  const m = /^(?:file:\/\/)?(\/.*?)(?::(\d+))?(?::(\d+))?$/.exec(site);
  if (!m) return undefined;
  return { file: m[1]!, ...(m[2] ? { line: m[2] } : {}), ...(m[3] ? { col: m[3] } : {}) };
}

function command(kind: 'error' | 'warning', props: Record<string, string | undefined>, message: string): string {
  const p = Object.entries(props)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(v)}`)
    .join(',');
  return `::${kind} ${p}::${escapeData(message)}`;
}

/**
 * `::error`/`::warning` lines for GitHub annotations: a new need on the line of code that asked (when it is
 * in the workspace), else on the profile; an unused grant (a warning, an error with --strict) on the profile.
 */
export function checkAnnotations(o: CheckOutcome, workspace: string): string[] {
  const lines: string[] = [];
  const inWorkspace = (abs: string) => {
    const r = path.relative(workspace, abs);
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : undefined;
  };
  const profileFile = inWorkspace(o.profile) ?? path.basename(o.profile);
  const cmp = o.comparison;
  if (cmp) {
    const layout = cmp.layout;
    for (const a of cmp.added) {
      const flag = displayFlag(a, layout);
      const first = a.evidence[0];
      // The app's own line of code; a dependency's (or Node's) is not in the diff, so the profile instead.
      const site = first?.site && (first.by === undefined || first.by === 'app') ? splitSite(first.site) : undefined;
      const where = site && !site.file.includes('/node_modules/') ? inWorkspace(site.file) : undefined;
      const message = `${flag} is needed and ${path.basename(o.profile)} lacks it: ${a.evidence.map((d) => describeEvidence(evidenceOf(d, layout))).join('; ')}`;
      lines.push(
        command(
          'error',
          where
            ? { file: where, line: site!.line, col: site!.col, title: 'permlearn: new permission needed' }
            : { file: profileFile, title: 'permlearn: new permission needed' },
          message,
        ),
      );
    }
    for (const u of cmp.unused) {
      lines.push(
        command(
          o.strict ? 'error' : 'warning',
          { file: profileFile, title: 'permlearn: grant no longer used' },
          `${displayFlag(u, layout)} is no longer used by the app; remove it (permlearn check --write)`,
        ),
      );
    }
  }
  if (o.status !== 'ok' && o.status !== 'new-needs' && o.status !== 'unused') {
    lines.push(command('error', { file: profileFile, title: 'permlearn check failed' }, headline(o, path.basename(o.profile))));
  }
  return lines;
}
