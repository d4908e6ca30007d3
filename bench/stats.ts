/** Small statistics for benchmark figures. */

/** The `q`-quantile (0..1) of `values` by nearest rank; NaN for no values. */
export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
};

/** The middle value; the mean of the two middle ones for an even count (so two runs give their mean). */
export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** `value` per 1,000 of `per`, e.g. requests per 1,000 entries. */
export const perThousand = (value: number, per: number): number => (per === 0 ? Number.NaN : (value * 1_000) / per);

/** `a / b`, NaN when `b` is 0 or either is not a number. */
export const ratio = (a: number, b: number): number =>
  b === 0 || !Number.isFinite(a) || !Number.isFinite(b) ? Number.NaN : a / b;

/** Rounds to `digits` decimals, for figures written to results.json. */
export const round = (value: number, digits = 1): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
