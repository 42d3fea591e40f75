/** Levenshtein edit distance between two strings. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/**
 * The message for an unknown name: `unknown config "tny"; did you mean "tiny"? (choices: ...)`.
 * Suggests the closest choice within an edit distance of a third of its length (at least 2).
 */
export function unknownNameMessage(kind: string, name: string, choices: readonly string[]): string {
  const best = closestName(name, choices);
  return `unknown ${kind} "${name}"${best ? `; did you mean "${best}"?` : ''} (choices: ${choices.join(', ')})`;
}

/**
 * The choice closest to `name` (case-insensitive edit distance) when it is within a third of its
 * length (at least 2), else undefined.
 */
export function closestName(name: string, choices: readonly string[]): string | undefined {
  let best = '';
  let bestDist = Infinity;
  for (const c of choices) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return bestDist <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** `n` and the noun, plural unless n is 1: "1 episode", "3 episodes" (`plural` for irregular nouns). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
