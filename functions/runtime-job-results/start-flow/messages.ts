/**
 * The messages the start flow publishes (docs/contract.md §4), built in one place so every path and
 * every replay produces the same fields.
 */
import type { Game, PendingIntent } from '../domain/game.js';
import { truncateText } from '../domain/text.js';
import type { RawEntry } from '../domain/job-result.js';
import type { OutboundMessage } from '../ports.js';

const PAUSED_AFTER_START = 'lobby.runtime_paused_after_start';

/** The Go worker's key: one notification per result entry, whatever happens to it afterwards. */
export const pausedIntentKey = (entryId: string): string => `${PAUSED_AFTER_START}:${entryId}`;

/** The admin notification for a game paused because Game Master was unavailable. */
export const pausedAfterStartIntent = (entryId: string, game: Game, nowMs: number): PendingIntent => ({
  idempotencyKey: pausedIntentKey(entryId),
  sourceEntryId: entryId,
  notificationType: PAUSED_AFTER_START,
  occurredAtMs: nowMs,
  payloadJson: JSON.stringify({ game_id: game.gameId, game_name: game.gameName }),
});

export const intentMessage = (stream: string, intent: PendingIntent): OutboundMessage => ({
  stream,
  fields: [
    ['notification_type', intent.notificationType],
    ['producer', 'lobby'],
    ['audience', 'admin'],
    ['idempotency_key', intent.idempotencyKey],
    ['occurred_at_ms', String(intent.occurredAtMs)],
    ['payload_json', intent.payloadJson],
  ],
});

export const stopJobMessage = (stream: string, gameId: string, entryId: string, nowMs: number): OutboundMessage => ({
  stream,
  fields: [
    ['game_id', gameId],
    ['reason', 'orphan_container'],
    ['source_entry_id', entryId],
    ['requested_at_ms', String(nowMs)],
  ],
});

/** Dead-letter reasons beyond the decoding rules (docs/contract.md §4.3), stable for dead-letter consumers. */
export const DeadLetterReason = {
  gameNotFound: 'game_not_found',
  retriesExhausted: (lastError: string): string => `retries_exhausted: ${lastError}`,
} as const;

/** The fields a dead letter adds to the original entry's. */
export const DEAD_LETTER_FIELDS: ReadonlySet<string> = new Set([
  'dead_letter_source_id',
  'dead_letter_reason',
  'dead_letter_attempts',
  'dead_letter_at_ms',
  'dead_letter_truncated',
]);

/**
 * Longest value copied into a dead letter, in UTF-8 bytes. A result carrying megabytes in
 * one field would otherwise make its dead letter too large to publish, and the entry
 * could never be given up.
 */
export const DEAD_LETTER_VALUE_BYTES = 16 * 1024;

/** Every field of the original entry, then where it came from and why it was given up. */
export const deadLetterMessage = (
  stream: string,
  entry: RawEntry,
  reason: string,
  attempts: number,
  nowMs: number,
): OutboundMessage => {
  const truncated: string[] = [];
  const copied = entry.fields
    // An entry that carries our own field names must not shadow the real ones.
    .filter(([field]) => !DEAD_LETTER_FIELDS.has(field))
    .map(([field, value]): readonly [string, string] => {
      const kept = truncateText(value, DEAD_LETTER_VALUE_BYTES);
      if (kept !== value) truncated.push(field);
      return [field, kept];
    });
  return {
    stream,
    fields: [
      ...copied,
      ['dead_letter_source_id', entry.id],
      ['dead_letter_reason', reason],
      ['dead_letter_attempts', String(attempts)],
      ['dead_letter_at_ms', String(nowMs)],
      ...(truncated.length > 0 ? [['dead_letter_truncated', truncated.join(',')] as const] : []),
    ],
  };
};
