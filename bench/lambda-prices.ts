/**
 * What a drain and an always-on follower cost in Lambda, from list prices. One place for
 * the prices, with where and when they were read; docs/performance.md quotes them.
 */

/** AWS Lambda on-demand list prices, arm64 (the stack's architecture). */
export const LAMBDA_PRICES = {
  source: 'aws.amazon.com/lambda/pricing, arm64, US East (N. Virginia), first 7.5 billion GB-s a month',
  asOf: '2026-11-30',
  usdPerGbSecond: 0.000_013_333_4,
  usdPerMillionRequests: 0.2,
} as const;

const SECONDS_PER_MONTH = 30 * 24 * 3_600;

/** Lambda bills memory in GB of 1,024 MB. */
const gigabytes = (memoryMb: number): number => memoryMb / 1_024;

export interface CostModel {
  readonly memoryMb: number;
  /** Seconds of each invocation spent draining: the timeout less the time-budget margin. */
  readonly workingSecondsPerInvocation: number;
}

/**
 * US dollars per million entries drained from a backlog at `entriesPerSecond`: billed
 * duration (the function is busy the whole drain) plus one request per invocation.
 */
export const usdPerMillionEntries = (model: CostModel, entriesPerSecond: number): number => {
  const seconds = 1_000_000 / entriesPerSecond;
  const invocations = Math.ceil(seconds / model.workingSecondsPerInvocation);
  return (
    gigabytes(model.memoryMb) * seconds * LAMBDA_PRICES.usdPerGbSecond +
    (invocations * LAMBDA_PRICES.usdPerMillionRequests) / 1_000_000
  );
};

/**
 * US dollars a month for a follower that is billed every second of a 30-day month (an
 * invocation that polls until its timeout, one started every `scheduleMinutes`).
 */
export const usdPerFollowerMonth = (memoryMb: number, scheduleMinutes = 1): number =>
  gigabytes(memoryMb) * SECONDS_PER_MONTH * LAMBDA_PRICES.usdPerGbSecond +
  ((SECONDS_PER_MONTH / 60 / scheduleMinutes) * LAMBDA_PRICES.usdPerMillionRequests) / 1_000_000;
