/** The consumer loop's knobs, taken from `Config.consumer`. */
export interface ConsumerSettings {
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly maxAttempts: number;
  readonly timeBudgetMarginMs: number;
  readonly attemptsPerInvocation: number;
  readonly retryBackoffMs: number;
  readonly deadLetterStream: string;
}
