/** Confidence intervals for evaluation figures. */

/**
 * Wilson score interval of a binomial proportion: k successes in n trials, two-sided at normal
 * quantile z (1.96 for 95%). Well behaved at 0 and n, unlike the normal approximation.
 */
export function wilsonInterval(k: number, n: number, z = 1.96): [number, number] {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
