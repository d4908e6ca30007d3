/**
 * Arbitrary stream entries for the property tests, and the verdict docs/contract.md §2.2 gives for
 * each: an oracle written from the contract, not from the decoder, so the properties check the
 * consumer against the contract.
 */
import fc from 'fast-check';
import { DEAD_LETTER_VALUE_BYTES } from '../../../functions/runtime-job-results/start-flow/messages.js';

/** Games the property tests put in the table, and the status each starts in. */
export const KNOWN_GAMES: Readonly<Record<string, string>> = {
  g1: 'starting',
  g2: 'starting',
  constructor: 'starting',
  '0123': 'starting',
  done: 'running',
};

const FIELD_NAMES = ['game_id', 'outcome', 'container_id', 'engine_endpoint', 'error_code', 'error_message'];

/** Values that tend to break parsers and maps. */
const nastyValue = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\t\n',
    '0',
    '0123',
    '1e5',
    '-1',
    'NaN',
    'null',
    'true',
    '{}',
    '[]',
    '{"game_id":"g1"}',
    '__proto__',
    'constructor',
    'toString',
    'success',
    'failure',
    'SUCCESS',
    ' success',
    'http://e/',
    'https://engine.galaxy.internal:8080/x?y=1',
    'http://',
    'gopher://x',
    '/relative',
    'http://e/\u0000',
    'g1',
    'g2',
    ' g1',
    'g1\n',
    'constructor',
    '0123',
    'done',
    'ghost',
    'a'.repeat(128),
    'a'.repeat(129),
    'c'.repeat(256),
    'c'.repeat(257),
    `http://e/${'p'.repeat(2_040)}`,
    `http://e/${'p'.repeat(2_041)}`,
    '\u0000\u0001\u001b[31m',
    'ünïcødé',
    '🚀',
    '\u202e',
    'x'.repeat(20_000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,10}$/),
);

const fieldName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', '', 'dead_letter_reason', 'Game_Id', '🎮'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** Any list of field/value pairs, repeats included (the last value wins). */
const arbitraryFields = fc.array(fc.tuple(fieldName, nastyValue), { maxLength: 10 });

/** Mostly well-formed results for the known games, so the valid paths are walked too. */
const plausibleFields = fc
  .record({
    gameId: fc.constantFrom(...Object.keys(KNOWN_GAMES), 'ghost'),
    outcome: fc.constantFrom('success', 'failure'),
    extra: arbitraryFields,
  })
  .map(({ gameId, outcome, extra }): [string, string][] => [
    ['game_id', gameId],
    ['outcome', outcome],
    ['container_id', `ctr-${gameId}`],
    ['engine_endpoint', 'http://engine.galaxy.internal:8080/'],
    ...extra,
  ]);

export const anyFields = fc.oneof(arbitraryFields, plausibleFields);

export type Verdict =
  | { readonly valid: false; readonly reason: string }
  | { readonly valid: true; readonly gameId: string; readonly outcome: 'success' | 'failure' };

const GAME_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const blank = (value: string | undefined): boolean => value === undefined || value.trim() === '';

/** What docs/contract.md §2.2 says of an entry with these fields. */
export const verdictOf = (fields: readonly (readonly [string, string])[]): Verdict => {
  const last = new Map(fields);
  const gameId = last.get('game_id');
  if (blank(gameId)) return { valid: false, reason: 'missing_game_id' };
  if (!GAME_ID.test(gameId as string)) return { valid: false, reason: 'invalid_game_id' };
  const outcome = last.get('outcome');
  if (outcome === 'failure') return { valid: true, gameId: gameId as string, outcome };
  if (outcome !== 'success') return { valid: false, reason: 'unsupported_outcome' };
  const container = last.get('container_id');
  const endpoint = last.get('engine_endpoint');
  if (blank(container)) return { valid: false, reason: 'missing_container_id' };
  if (blank(endpoint)) return { valid: false, reason: 'missing_engine_endpoint' };
  if ((container as string).length > 256) return { valid: false, reason: 'container_id_too_long' };
  if ((endpoint as string).length > 2_048) return { valid: false, reason: 'engine_endpoint_too_long' };
  let absolute = false;
  try {
    const url = new URL(endpoint as string);
    absolute = (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
  } catch {
    absolute = false;
  }
  if (!absolute) return { valid: false, reason: 'invalid_engine_endpoint' };
  return { valid: true, gameId: gameId as string, outcome };
};

/** The status a game ends in after one entry with this verdict, from `initial`. */
export const statusAfter = (
  verdict: Verdict,
  initial: string | undefined,
  gameMasterFails: boolean,
): string | undefined => {
  if (!verdict.valid || initial !== 'starting') return initial;
  if (verdict.outcome === 'failure') return 'start_failed';
  return gameMasterFails ? 'paused' : 'running';
};

const CUT_MARK = '…[truncated]';

/** A value over this many UTF-8 bytes is cut in its dead letter (docs/contract.md §4.3). */
export const isCutInDeadLetter = (value: string): boolean => Buffer.byteLength(value, 'utf8') > DEAD_LETTER_VALUE_BYTES;

/** `copied` is `original`, or — for a value over the limit — a marked cut of it within the limit. */
export const isFaithfulCopy = (original: string, copied: string | undefined): boolean => {
  if (copied === undefined) return false;
  if (!isCutInDeadLetter(original)) return copied === original;
  return (
    copied.endsWith(CUT_MARK) &&
    Buffer.byteLength(copied, 'utf8') <= DEAD_LETTER_VALUE_BYTES &&
    original.startsWith(copied.slice(0, -CUT_MARK.length))
  );
};
