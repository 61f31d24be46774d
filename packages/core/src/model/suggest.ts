// "Did you mean …?": the known word nearest to a mistyped one. Pure.

/** Edit distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * The candidate nearest to `word`, if it is near enough to be a typo: the same word once case, `-` and
 * `_` are ignored (`max_runs`, `MaxRuns` → `maxRuns`), else within 1 edit for short words and 2 for
 * longer ones, the nearest first.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const norm = (k: string) => k.toLowerCase().replace(/[-_]/g, '');
  const w = norm(word);
  const same = candidates.find((c) => norm(c) === w);
  if (same) return same;
  const limit = word.length > 4 ? 2 : 1;
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(norm(c), w);
    if (d <= limit && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}
