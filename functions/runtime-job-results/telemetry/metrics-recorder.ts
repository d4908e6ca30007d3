import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Transition } from '../domain/transitions.js';
import { MetricName } from './metric-names.js';
import type { EntryResult } from '../start-flow/outcome.js';
import type { StartFlowOutcome } from './metric-names.js';

/** What the start flow reports: the Go worker's two counters. */
export interface StartFlowTelemetry {
  transition(transition: Transition): void;
  outcome(outcome: StartFlowOutcome): void;
}

/** What the consumer loop reports on top. */
export interface ConsumerTelemetry extends StartFlowTelemetry {
  entry(result: EntryResult): void;
  deadLetter(): void;
  transientError(): void;
  /** The stored offset is beyond the stream's last id. */
  offsetAhead(): void;
  /** Entries after the offset were trimmed or deleted before they were read. */
  entriesTrimmed(): void;
  /** An entry's messages could not be published after `MAX_ATTEMPTS` tries and were logged instead. */
  publishAbandoned(): void;
  lag(ageMs: number, entries: number): void;
}

type Dimensions = Readonly<Record<string, string>>;

interface Counter {
  readonly name: string;
  readonly dimensions: Dimensions;
  value: number;
}

/**
 * Counts in memory during an invocation and writes one EMF record per metric and
 * dimension set at the end. The Go worker emitted a counter per entry; with batches of a
 * hundred entries that would be hundreds of log lines an invocation for the same sums.
 */
export class MetricsRecorder implements ConsumerTelemetry {
  readonly #counters = new Map<string, Counter>();
  #lag: { ageMs: number; entries: number } | undefined;

  transition(transition: Transition): void {
    this.#count(MetricName.gameTransitions, {
      from_status: transition.from,
      to_status: transition.to,
      trigger: transition.trigger,
    });
  }

  outcome(outcome: StartFlowOutcome): void {
    this.#count(MetricName.startFlowOutcomes, { outcome });
  }

  entry(result: EntryResult): void {
    this.#count(MetricName.entries, { result });
  }

  deadLetter(): void {
    this.#count(MetricName.deadLetters, {});
  }

  transientError(): void {
    this.#count(MetricName.transientErrors, {});
  }

  offsetAhead(): void {
    this.#count(MetricName.offsetAhead, {});
  }

  entriesTrimmed(): void {
    this.#count(MetricName.entriesTrimmed, {});
  }

  publishAbandoned(): void {
    this.#count(MetricName.publishAbandoned, {});
  }

  lag(ageMs: number, entries: number): void {
    this.#lag = { ageMs, entries };
  }

  /** The counts so far, keyed `name|dim=value,…`; for tests and the local report. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counters.entries()].map(([key, counter]) => [key, counter.value]));
  }

  /** Writes everything recorded and starts over. */
  flush(metrics: Metrics): void {
    for (const counter of this.#counters.values()) {
      const single = metrics.singleMetric();
      for (const [name, value] of Object.entries(counter.dimensions)) single.addDimension(name, value);
      single.addMetric(counter.name, MetricUnit.Count, counter.value);
    }
    if (this.#lag !== undefined) {
      metrics.addMetric(MetricName.consumerLagAge, MetricUnit.Milliseconds, this.#lag.ageMs);
      metrics.addMetric(MetricName.consumerLagEntries, MetricUnit.Count, this.#lag.entries);
      metrics.publishStoredMetrics();
    }
    this.#counters.clear();
    this.#lag = undefined;
  }

  #count(name: string, dimensions: Dimensions): void {
    const key = `${name}|${Object.entries(dimensions)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}`;
    const counter = this.#counters.get(key);
    if (counter) counter.value += 1;
    else this.#counters.set(key, { name, dimensions, value: 1 });
  }
}
