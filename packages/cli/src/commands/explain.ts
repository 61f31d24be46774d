// `permlearn explain <profile.json>`: why each grant of a saved profile is there, and who asked.
import { createColors } from 'picocolors';
import yargs, { type Argv } from 'yargs';
import { PermlearnError, describeSeen, describeSeenIn, type Profile } from '@permlearn/core';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../shared/command.js';
import { base, parseWith, type Parsed } from '../shared/options.js';
import { broadGrants, readProfile } from '../shared/profile-io.js';
import { colorEnabled } from '../shared/report.js';

export interface ExplainArgs {
  profile: string;
}

/** `permlearn explain <profile.json>` (argv without the word `explain`). */
export async function parseExplainArgs(argv: string[]): Promise<Parsed<'explain', ExplainArgs>> {
  const parser = base(
    yargs(argv),
    'permlearn explain',
    '$0 <profile.json>\n\nEvery grant of a saved profile (--format json) with the denials behind it and who asked: the app (its file and line) or a dependency (name@version), then how many grants each of them needed.',
    [
      ['$0 permlearn.json', 'why each grant of the committed profile is there'],
      ['permlearn --format json --out p.json app.js && $0 p.json', 'learn, then explain'],
    ],
  );
  const { a, help } = await parseWith(parser as Argv<unknown>, argv);
  if (help !== undefined) return { kind: 'done', output: help };
  const positional = a._.map(String);
  if (positional.length !== 1) {
    throw new PermlearnError(
      'usage',
      positional.length === 0
        ? 'missing <profile.json>: permlearn explain <profile.json> (a profile saved with --format json)'
        : `one profile at a time, got ${positional.length}`,
    );
  }
  return { kind: 'explain', args: { profile: positional[0]! } };
}

/** Text from the profile as it may be shown on a terminal: control characters (escape sequences, line breaks) spelled out. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The explanation as text: one block per grant, then the count of grants per package. A grant broader
 * than permlearn ever grants is flagged (render, merge and check refuse such a profile).
 */
export function explainProfile(profile: Profile, color: boolean, homedir?: string): string {
  const c = createColors(color);
  // Every string below that comes from the file goes through t(): nothing in it may move the cursor or fake a line.
  const t = printable;
  const broad = new Map(broadGrants(profile, homedir).map((b) => [b.at, b]));
  const out: string[] = [
    `${c.bold('profile')} for ${t(profile.entry)} under Node ${profile.node}: ${profile.grants.length} grants, ${profile.verified ? c.green('verified') : c.red(`not verified (${profile.status})`)}`,
    '',
  ];
  const perAsker = new Map<string, number>();
  const entryBroad = broad.get('entry');
  if (entryBroad)
    out.push(c.red(`✖ entry: ${t(entryBroad.flag)} would be granted on Node 20, which is broader than permlearn ever grants: ${t(entryBroad.why)}`), '');
  profile.grants.forEach((g, i) => {
    // A merged profile (permlearn merge) says in how many of its runs each grant was asked for.
    // (One built from records says in how many records, and when first and last.)
    const seen = (g as { seen?: { runs: number; of: number; first?: number; last?: number } }).seen;
    const said = seen && (profile.records ? describeSeenIn(seen) : describeSeen(seen));
    out.push(said ? `${c.cyan(t(g.flag))}  ${c.dim(said)}` : c.cyan(t(g.flag)));
    const askers = new Set<string>();
    for (const d of g.denials) {
      const who = t(d.by ? `${d.by}${d.at ? ` (${d.at})` : ''}` : (d.site ?? 'Node itself (no call site outside Node)'));
      askers.add(d.by ?? (d.site === undefined ? 'Node itself' : 'unknown'));
      const times = (d.hits ?? 1) > 1 ? ` ${c.dim(`×${d.hits}`)}` : '';
      out.push(`  ${t(d.permission || d.code)}${d.resource ? ` ${t(d.resource)}` : ''}${times}  ${c.dim('asked by')} ${who}  ${c.dim(`[${d.source}]`)}`);
    }
    for (const n of g.notes) out.push(`  ${c.dim(t(n.detail))}`);
    if (g.risk) out.push(`  ${c.yellow(`⚠ ${t(g.risk)}`)}`);
    const b = broad.get(`grants[${i}]`);
    if (b) out.push(`  ${c.red(`✖ broader than permlearn ever grants: ${t(b.why)} (render, merge and check refuse this profile)`)}`);
    for (const a of askers) perAsker.set(a, (perAsker.get(a) ?? 0) + 1);
  });
  const tight = profile.tightened;
  if (tight && (tight.removed.length || tight.kept.length || tight.untried.length)) {
    const title = tight.removed.length ? 'left out by tightening' : 'tightening left nothing out';
    out.push('', c.bold(`${title} (${tight.trials} trial run${tight.trials === 1 ? '' : 's'} beyond the verification)`));
    for (const r of tight.removed) {
      out.push(`${c.dim(t(r.flag))}  ${c.dim(`${r.asks} check${r.asks === 1 ? '' : 's'}: ${t(r.why)}`)}`);
      for (const d of r.denials)
        out.push(
          `  ${t(d.permission || d.code)}${d.resource ? ` ${t(d.resource)}` : ''}  ${c.dim('asked by')} ${t(d.by ? `${d.by}${d.at ? ` (${d.at})` : ''}` : (d.site ?? 'Node itself'))}  ${c.dim(`[${d.source}]`)}`,
        );
    }
    if (tight.kept.length) out.push(c.dim(`kept (the app failed without them): ${tight.kept.map(t).join(' ')}`));
    if (tight.untried.length) out.push(c.yellow(`⚠ left in untried (the run budget ran out): ${tight.untried.map(t).join(' ')}`));
  }
  out.push('', c.bold('grants by who asked'));
  for (const [who, n] of [...perAsker].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) out.push(`  ${String(n).padStart(4)}  ${t(who)}`);
  return `${out.join('\n')}\n`;
}

export const command: Command<ExplainArgs> = {
  name: 'explain',
  describe: 'why each grant of a saved profile is there, and who asked',
  starts: 'nothing',
  parse: parseExplainArgs,
  run: async (args, ctx) => {
    process.stdout.write(explainProfile(readProfile(args.profile), colorEnabled(process.stdout, ctx.env)));
    return EXIT.ok;
  },
};
