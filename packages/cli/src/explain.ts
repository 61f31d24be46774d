// `permlearn explain <profile.json>`: why each grant of a saved profile is there, and who asked.
import { createColors } from 'picocolors';
import { describeSeen, describeSeenIn, type Profile } from '@permlearn/core';
import { broadGrants } from './profile-file.js';

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
  if (entryBroad) out.push(c.red(`✖ entry: ${t(entryBroad.flag)} would be granted on Node 20, which is broader than permlearn ever grants: ${t(entryBroad.why)}`), '');
  profile.grants.forEach((g, i) => {
    // A merged profile (permlearn merge) says in how many of its runs each grant was asked for; one
    // built from records, in how many records, and when first and last.
    const seen = (g as { seen?: { runs: number; of: number; first?: number; last?: number } }).seen;
    const said = seen && (profile.records ? describeSeenIn(seen) : describeSeen(seen));
    out.push(said ? `${c.cyan(t(g.flag))}  ${c.dim(said)}` : c.cyan(t(g.flag)));
    const askers = new Set<string>();
    for (const d of g.denials) {
      const who = t(d.by ? `${d.by}${d.at ? ` (${d.at})` : ''}` : d.site ?? 'Node itself (no call site outside Node)');
      askers.add(d.by ?? 'unknown');
      const times = (d.hits ?? 1) > 1 ? ` ${c.dim(`×${d.hits}`)}` : '';
      out.push(`  ${t(d.permission || d.code)}${d.resource ? ` ${t(d.resource)}` : ''}${times}  ${c.dim('asked by')} ${who}  ${c.dim(`[${d.source}]`)}`);
    }
    for (const n of g.notes) out.push(`  ${c.dim(t(n.detail))}`);
    if (g.risk) out.push(`  ${c.yellow(`⚠ ${t(g.risk)}`)}`);
    const b = broad.get(`grants[${i}]`);
    if (b) out.push(`  ${c.red(`✖ broader than permlearn ever grants: ${t(b.why)} (render, merge and check refuse this profile)`)}`);
    for (const a of askers) perAsker.set(a, (perAsker.get(a) ?? 0) + 1);
  });
  out.push('', c.bold('grants by who asked'));
  for (const [who, n] of [...perAsker].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) out.push(`  ${String(n).padStart(4)}  ${t(who)}`);
  return `${out.join('\n')}\n`;
}
