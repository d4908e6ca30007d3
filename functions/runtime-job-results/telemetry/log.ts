import { truncateText } from '../domain/text.js';

/**
 * The logging surface the start flow needs. Powertools' `Logger` satisfies it; unit tests
 * pass a recorder. Attribute names are the Go worker's (`stream_entry_id`, `game_id`, `err`; docs/contract.md §7.1).
 */
export type LogAttributes = Record<string, unknown>;

export interface Log {
  debug(message: string, attributes: LogAttributes): void;
  info(message: string, attributes: LogAttributes): void;
  warn(message: string, attributes: LogAttributes): void;
  error(message: string, attributes: LogAttributes): void;
}

/**
 * An error's message for a log line, cut to `maxBytes`: never the raw object, and never an
 * upstream text of any size (the Upstash client puts the whole request body in its errors).
 */
export const errorText = (error: unknown, maxBytes = 1024): string =>
  truncateText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), maxBytes);
