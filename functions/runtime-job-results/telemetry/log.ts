/**
 * The logging surface the start flow needs. Powertools' `Logger` satisfies it; unit tests
 * pass a recorder. Attribute names follow the seed (`stream_entry_id`, `game_id`, `err`).
 */
export type LogAttributes = Record<string, unknown>;

export interface Log {
  debug(message: string, attributes: LogAttributes): void;
  info(message: string, attributes: LogAttributes): void;
  warn(message: string, attributes: LogAttributes): void;
  error(message: string, attributes: LogAttributes): void;
}

/** An error's message for a log line: never the raw object, which may carry request data. */
export const errorText = (error: unknown): string => {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
};
