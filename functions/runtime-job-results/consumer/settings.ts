/** The consumer loop's knobs, taken from `Config.consumer`. */
export interface ConsumerSettings {
  readonly batchSize: number;
  /** Read the next batch while one is processed (off in seed mode, which reads one at a time). */
  readonly prefetch: boolean;
  readonly maxConcurrency: number;
  readonly maxAttempts: number;
  readonly timeBudgetMarginMs: number;
  readonly attemptsPerInvocation: number;
  readonly retryBackoffMs: number;
  readonly deadLetterStream: string;
}
