/**
 * Progress while the benchmark seeds and drains: a cli-progress bar on a terminal, nothing
 * otherwise (CI logs, the test run).
 */
import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  /** Starts a new phase (`seed mode: creating games`) that counts up to `total`. */
  start(label: string, total: number): void;
  update(done: number): void;
  /** Ends the current phase. */
  stop(): void;
}

export const silentProgress: Progress = { start: () => undefined, update: () => undefined, stop: () => undefined };

/** One bar per phase on stderr; silent when stderr is not a terminal. */
export const terminalProgress = (): Progress => {
  if (!process.stderr.isTTY) return silentProgress;
  let bar: SingleBar | undefined;
  return {
    start: (label, total) => {
      bar?.stop();
      bar = new SingleBar(
        {
          format: `${label.padEnd(34)} {bar} {value}/{total} | {duration_formatted} | eta {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 200,
        },
        Presets.shades_classic,
      );
      bar.start(total, 0);
    },
    update: (done) => bar?.update(done),
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
};
