import type { Redis } from '@upstash/redis';
import type { OutboundMessage, StreamPublisher } from '../ports.js';
import type { RequestBounds } from './invocation-deadline.js';

/**
 * Appends messages to their streams (`XADD … *`). A batch travels as one Upstash pipeline:
 * one HTTP request however many stop jobs, intents and dead letters it holds. The
 * pipeline throws if any command failed, and the caller then treats the whole batch as
 * not published; re-publishing is safe because every consumer of these streams
 * deduplicates (idempotency key, source entry id).
 */
export class UpstashStreamPublisher implements StreamPublisher {
  readonly #redis: Redis;
  readonly #probeKey: string;
  readonly #bounds: RequestBounds;

  /**
   * `probeKey`: a key of our own that {@link probeWrite} sets; it expires a minute later.
   * `bounds`: the ones the client was made with, to name Upstash when the deadline cuts a request.
   */
  constructor(redis: Redis, probeKey: string, bounds: RequestBounds) {
    this.#redis = redis;
    this.#probeKey = probeKey;
    this.#bounds = bounds;
  }

  async probeWrite(): Promise<void> {
    await this.#redis.exec(['SET', this.#probeKey, String(Date.now()), 'PX', '60000']).catch((error: unknown) => {
      throw this.#bounds.explain(error);
    });
  }

  async publish(messages: readonly OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const message of messages) {
      // fromEntries defines own properties, so a field named `__proto__` stays a field.
      pipeline.xadd(message.stream, '*', Object.fromEntries(message.fields));
    }
    await pipeline.exec().catch((error: unknown) => {
      throw this.#bounds.explain(error);
    });
  }
}
