// `permlearn explain <profile.json>`: why each grant of a saved profile is there, and who asked.
import { readFileSync } from 'node:fs';
import { createColors } from 'picocolors';
import { PermlearnError, describeSeen, parseProfile, type Profile } from '@permlearn/core';

export function readProfile(file: string): Profile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PermlearnError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseProfile(text, file);
}

/** The explanation as text: one block per grant, then the count of grants per package. */
export function explainProfile(profile: Profile, color: boolean): string {
  const c = createColors(color);
  const out: string[] = [
    `${c.bold('profile')} for ${profile.entry} under Node ${profile.node}: ${profile.grants.length} grants, ${profile.verified ? c.green('verified') : c.red(`not verified (${profile.status})`)}`,
    '',
  ];
  const perAsker = new Map<string, number>();
  for (const g of profile.grants) {
    // A merged profile (permlearn merge) says in how many of its runs each grant was asked for.
    const seen = (g as { seen?: { runs: number; of: number } }).seen;
    out.push(seen ? `${c.cyan(g.flag)}  ${c.dim(describeSeen(seen))}` : c.cyan(g.flag));
    const askers = new Set<string>();
    for (const d of g.denials) {
      const who = d.by ? `${d.by}${d.at ? ` (${d.at})` : ''}` : d.site ?? 'Node itself (no call site outside Node)';
      askers.add(d.by ?? 'unknown');
      const times = (d.hits ?? 1) > 1 ? ` ${c.dim(`×${d.hits}`)}` : '';
      out.push(`  ${d.permission || d.code}${d.resource ? ` ${d.resource}` : ''}${times}  ${c.dim('asked by')} ${who}  ${c.dim(`[${d.source}]`)}`);
    }
    for (const n of g.notes) out.push(`  ${c.dim(n.detail)}`);
    if (g.risk) out.push(`  ${c.yellow(`⚠ ${g.risk}`)}`);
    for (const a of askers) perAsker.set(a, (perAsker.get(a) ?? 0) + 1);
  }
  out.push('', c.bold('grants by who asked'));
  for (const [who, n] of [...perAsker].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) out.push(`  ${String(n).padStart(4)}  ${who}`);
  return `${out.join('\n')}\n`;
}
