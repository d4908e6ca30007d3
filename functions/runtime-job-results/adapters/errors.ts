/** Errors raised by the adapters; none of them is a start-flow decision. */

/** Another invocation holds the offset lease now: this one must stop without writing. */
export class LeaseLostError extends Error {
  readonly owner: string;

  constructor(owner: string, options?: ErrorOptions) {
    super(`offset lease of ${owner} was taken over; not writing the offset`, options);
    this.name = 'LeaseLostError';
    this.owner = owner;
  }
}

/** Game Master answered other than 2xx, timed out, or could not be reached. */
export class GameMasterUnavailableError extends Error {
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GameMasterUnavailableError';
    this.status = status;
  }
}

/**
 * Game Master refused our credentials (401/403). Not "Game Master unavailable": pausing
 * every started game over a stale or wrong token would be worse than stopping. The
 * invocation fails loudly and the next one re-reads the token from Secrets Manager.
 */
export class GameMasterAuthError extends Error {
  readonly status: number;

  constructor(status: number) {
    super(`Game Master refused the API token (HTTP ${status}); check GM_API_TOKEN / its secret`);
    this.name = 'GameMasterAuthError';
    this.status = status;
  }
}

/** The stream answered with something that is not the shape Redis gives. */
export class MalformedStreamReplyError extends Error {
  constructor(detail: string) {
    super(`malformed stream reply: ${detail}`);
    this.name = 'MalformedStreamReplyError';
  }
}

/** A configured table does not exist: a deployment mistake, never worth retrying per entry. */
export class MissingTableError extends Error {
  readonly tableName: string;

  constructor(tableName: string, options?: ErrorOptions) {
    super(`DynamoDB table "${tableName}" does not exist (check GAMES_TABLE / OFFSETS_TABLE and the region)`, options);
    this.name = 'MissingTableError';
    this.tableName = tableName;
  }
}
