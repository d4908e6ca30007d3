/**
 * Jitter for every backoff of this function: retries of many invocations (or of many
 * entries of one) that failed together must not all come back at the same instant.
 */

/**
 * "Equal jitter": a delay between half of `ms` and `ms`, so the schedule still grows as
 * designed (each wait at least half the nominal one) while no two callers share it.
 */
export const withJitter = (ms: number, random: () => number = Math.random): number => ms / 2 + (random() * ms) / 2;
