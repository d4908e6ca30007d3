/**
 * Decoding and validation of one `runtime:job_results` entry (docs/contract.md §2). Pure: the
 * caller decides what to log and where invalid entries go.
 */

import { truncateText } from './text.js';

export const Outcome = {
  success: 'success',
  failure: 'failure',
} as const;

export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Limits the project adds to the Go worker's "non-blank" rules (docs/contract.md §2.2). */
export const limits = {
  containerIdChars: 256,
  engineEndpointChars: 2048,
  /**
   * Largest entry, in UTF-8 bytes of its field names and values. A real result is a few
   * hundred bytes (an error message with a stack trace a few KiB); 64 KiB leaves room for
   * that and keeps a batch of the largest entries (100 × 64 KiB) far from a 256 MB function.
   */
  entryBytes: 64 * 1024,
  /** Most fields in one entry. A result has at most six; more is not a result. */
  entryFields: 64,
} as const;

const GAME_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The size of an entry: its UTF-8 bytes (names and values) and its number of fields. */
export interface EntrySize {
  readonly bytes: number;
  readonly fields: number;
}

/** One stream entry as read: its id and its field/value pairs, in stream order. */
export interface RawEntry {
  readonly id: string;
  readonly fields: readonly (readonly [string, string])[];
  /**
   * Set when the reader left the entry's fields in the stream because it is over a limit
   * of {@link limits}: `fields` then holds at most its `game_id`, cut, for the dead letter.
   */
  readonly withheld?: EntrySize;
}

/** The size of an entry as read (or as measured by the reader, for a withheld one). */
const entrySize = (entry: RawEntry): EntrySize =>
  entry.withheld ?? {
    bytes: entry.fields.reduce(
      (sum, [field, value]) => sum + Buffer.byteLength(field, 'utf8') + Buffer.byteLength(value, 'utf8'),
      0,
    ),
    fields: entry.fields.length,
  };

export interface FailureResult {
  readonly outcome: typeof Outcome.failure;
  readonly gameId: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface SuccessResult {
  readonly outcome: typeof Outcome.success;
  readonly gameId: string;
  readonly containerId: string;
  readonly engineEndpoint: string;
}

export type JobResult = FailureResult | SuccessResult;

/**
 * Why an entry is invalid: `rule` is stable (it names the broken rule in dead letters);
 * `part` says whether the entry itself could not be read or a success lacked its fields,
 * which the Go worker logged under different messages (docs/contract.md §5.1).
 */
export interface Invalid {
  readonly rule: string;
  readonly detail: string;
  readonly part: 'entry' | 'success_fields';
}

export type Decoded =
  | { readonly ok: true; readonly result: JobResult }
  | { readonly ok: false; readonly invalid: Invalid; readonly gameId?: string };

/**
 * Field lookup where a repeated field's last value wins (docs/contract.md §2.1). A Map, not an object,
 * so keys such as `__proto__` or `constructor` are plain data.
 */
export const fieldMap = (entry: RawEntry): ReadonlyMap<string, string> => new Map(entry.fields);

const isBlank = (value: string | undefined): boolean => (value ?? '').trim() === '';

const invalid = (rule: string, detail: string, gameId?: string, part: Invalid['part'] = 'entry'): Decoded => ({
  ok: false,
  invalid: { rule, detail, part },
  ...(gameId === undefined ? {} : { gameId }),
});

const invalidSuccess = (rule: string, detail: string, gameId: string): Decoded =>
  invalid(rule, detail, gameId, 'success_fields');

const isHttpUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
};

/** Decodes and validates an entry; never throws. */
export const decodeJobResult = (entry: RawEntry): Decoded => {
  const fields = fieldMap(entry);
  const gameId = fields.get('game_id');
  const size = entrySize(entry);
  // Checked first: the other rules would read fields a withheld entry does not carry.
  const loggedId = gameId === undefined ? undefined : truncateText(gameId, 256);
  if (size.fields > limits.entryFields) {
    return invalid('too_many_fields', `${size.fields} fields, more than ${limits.entryFields}`, loggedId);
  }
  if (size.bytes > limits.entryBytes) {
    return invalid('entry_too_large', `${size.bytes} bytes, more than ${limits.entryBytes}`, loggedId);
  }
  if (isBlank(gameId)) return invalid('missing_game_id', 'missing game_id');
  if (!GAME_ID.test(gameId ?? '')) return invalid('invalid_game_id', 'invalid game_id');
  const id = gameId as string;

  const outcome = fields.get('outcome');
  if (outcome === Outcome.failure) {
    return {
      ok: true,
      result: {
        outcome,
        gameId: id,
        errorCode: fields.get('error_code') ?? '',
        errorMessage: fields.get('error_message') ?? '',
      },
    };
  }
  if (outcome !== Outcome.success) {
    return invalid('unsupported_outcome', `unsupported outcome ${JSON.stringify(truncateText(outcome ?? '', 64))}`, id);
  }

  const containerId = fields.get('container_id') ?? '';
  const engineEndpoint = fields.get('engine_endpoint') ?? '';
  if (isBlank(containerId)) return invalidSuccess('missing_container_id', 'success event missing container_id', id);
  if (isBlank(engineEndpoint))
    return invalidSuccess('missing_engine_endpoint', 'success event missing engine_endpoint', id);
  if (containerId.length > limits.containerIdChars) {
    return invalidSuccess(
      'container_id_too_long',
      `container_id longer than ${limits.containerIdChars} characters`,
      id,
    );
  }
  if (engineEndpoint.length > limits.engineEndpointChars) {
    return invalidSuccess(
      'engine_endpoint_too_long',
      `engine_endpoint longer than ${limits.engineEndpointChars} characters`,
      id,
    );
  }
  if (!isHttpUrl(engineEndpoint)) {
    return invalidSuccess('invalid_engine_endpoint', 'engine_endpoint is not an absolute http(s) URL', id);
  }
  return { ok: true, result: { outcome, gameId: id, containerId, engineEndpoint } };
};
