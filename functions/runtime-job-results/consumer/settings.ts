import type { Config } from '../config.js';

/** The consumer loop's knobs: `Config.consumer` plus where dead letters go. */
export type ConsumerSettings = Omit<Config['consumer'], 'mode'> & {
  readonly deadLetterStream: string;
};
