/**
 * The benchmark's backlog: a reproducible list of runtime job results and the games they
 * refer to. Pure data, the same for every mode of one run, so the modes can be compared
 * entry by entry (ids differ between runs; positions in the backlog do not).
 */
import { createHash } from 'node:crypto';

/** What one backlog entry is meant to exercise. */
export const EntryKind = {
  success: 'success',
  failure: 'failure',
  invalid: 'invalid',
  duplicate: 'duplicate',
} as const;

export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

/** Shares of each kind in the backlog; they add up to 1. */
export type BacklogMix = Readonly<Record<EntryKind, number>>;

/** The brief's default mix: 70% success, 20% failure, 5% invalid, 5% duplicates. */
const DEFAULT_MIX: BacklogMix = { success: 0.7, failure: 0.2, invalid: 0.05, duplicate: 0.05 };

export interface BacklogEntry {
  readonly kind: EntryKind;
  /** The stream fields, in the order they are added. */
  readonly fields: Readonly<Record<string, string>>;
  /** The game this entry's result is for (success, failure and their duplicates). */
  readonly gameId?: string;
  /** The dead-letter reason an invalid entry must get. */
  readonly invalidRule?: string;
}

export interface BacklogGame {
  readonly gameId: string;
  /** Game Master answers 500 to this game's registration (its success ends `paused`). */
  readonly gameMasterFails: boolean;
}

export interface Backlog {
  readonly entries: readonly BacklogEntry[];
  /** Every game a result refers to; all created `starting` before the run. */
  readonly games: readonly BacklogGame[];
  readonly counts: Readonly<Record<EntryKind, number>>;
}

export interface BacklogOptions {
  readonly entries: number;
  /** Fraction (0..1) of games whose Game Master registration fails. */
  readonly gmFailureRate: number;
  readonly mix?: BacklogMix;
  /** Changes every draw; the same seed gives the same backlog. */
  readonly seed?: string;
}

/**
 * A uniform number in [0, 1) from a label: a hash rather than a stateful PRNG, so a draw
 * depends only on what it is for, never on how many draws came before.
 */
const unit = (label: string): number => createHash('sha256').update(label).digest().readUInt32BE(0) / 2 ** 32;

/** Invalid entries cycle through these, so dead letters show a spread of reasons. */
const INVALID_ENTRIES: readonly { readonly rule: string; readonly fields: (n: number) => Record<string, string> }[] = [
  {
    rule: 'missing_game_id',
    fields: (n) => ({ outcome: 'success', container_id: `ctr-bad-${n}`, engine_endpoint: 'http://x:8080' }),
  },
  { rule: 'invalid_game_id', fields: (n) => ({ game_id: `bad id ${n}!`, outcome: 'failure' }) },
  { rule: 'unsupported_outcome', fields: (n) => ({ game_id: `unknown-${n}`, outcome: 'maybe' }) },
  {
    rule: 'missing_container_id',
    fields: (n) => ({ game_id: `unknown-${n}`, outcome: 'success', engine_endpoint: 'http://x:8080' }),
  },
  {
    rule: 'missing_engine_endpoint',
    fields: (n) => ({ game_id: `unknown-${n}`, outcome: 'success', container_id: `ctr-bad-${n}` }),
  },
  {
    rule: 'invalid_engine_endpoint',
    fields: (n) => ({
      game_id: `unknown-${n}`,
      outcome: 'success',
      container_id: `ctr-bad-${n}`,
      engine_endpoint: 'ftp://x',
    }),
  },
];

/** The game ids of the backlog: fixed, since every mode gets fresh tables. */
const benchGameId = (index: number): string => `bench-game-${String(index).padStart(6, '0')}`;

const successFields = (gameId: string): Record<string, string> => ({
  game_id: gameId,
  outcome: 'success',
  container_id: `ctr-${gameId}`,
  engine_endpoint: `http://engine-${gameId}.galaxy.internal:8080`,
});

const failureFields = (gameId: string): Record<string, string> => ({
  game_id: gameId,
  outcome: 'failure',
  error_code: 'image_pull_failed',
  error_message: 'manifest unknown',
});

/** How many entries of each kind `total` entries hold; rounding leftovers go to `success`. */
const kindCounts = (total: number, mix: BacklogMix = DEFAULT_MIX): Record<EntryKind, number> => {
  const failure = Math.round(total * mix.failure);
  const invalid = Math.round(total * mix.invalid);
  const duplicate = Math.round(total * mix.duplicate);
  return { success: total - failure - invalid - duplicate, failure, invalid, duplicate };
};

/**
 * Builds the backlog: kinds shuffled by hash, each success or failure for a game of its
 * own, each duplicate a copy of an earlier success or failure (a replayed result).
 */
export const buildBacklog = (options: BacklogOptions): Backlog => {
  const seed = options.seed ?? 'bench';
  const counts = kindCounts(options.entries, options.mix);
  const kinds: EntryKind[] = (Object.keys(counts) as EntryKind[]).flatMap((kind) =>
    Array.from({ length: counts[kind] }, () => kind),
  );
  const order = kinds
    .map((kind, index) => ({ kind, key: unit(`${seed}:order:${index}`) }))
    .sort((a, b) => a.key - b.key)
    .map(({ kind }) => kind);
  // A duplicate needs an original before it: move the first original to the front.
  const firstOriginal = order.findIndex((kind) => kind === EntryKind.success || kind === EntryKind.failure);
  if (firstOriginal > 0) [order[0], order[firstOriginal]] = [order[firstOriginal] as EntryKind, order[0] as EntryKind];

  const games: BacklogGame[] = [];
  const originals: BacklogEntry[] = [];
  let invalidCount = 0;
  const entries = order.map((kind, position): BacklogEntry => {
    switch (kind) {
      case EntryKind.success:
      case EntryKind.failure: {
        const gameId = benchGameId(games.length);
        games.push({
          gameId,
          gameMasterFails: kind === EntryKind.success && unit(`${seed}:gm:${gameId}`) < options.gmFailureRate,
        });
        const entry = {
          kind,
          gameId,
          fields: kind === EntryKind.success ? successFields(gameId) : failureFields(gameId),
        };
        originals.push(entry);
        return entry;
      }
      case EntryKind.duplicate: {
        const original = originals[Math.floor(unit(`${seed}:dup:${position}`) * originals.length)];
        if (original === undefined) throw new Error('backlog: a duplicate came before any original');
        return { kind, gameId: original.gameId, fields: original.fields };
      }
      case EntryKind.invalid: {
        const template = INVALID_ENTRIES[invalidCount % INVALID_ENTRIES.length];
        invalidCount += 1;
        if (template === undefined) throw new Error('backlog: no invalid entry template');
        return { kind, fields: template.fields(invalidCount), invalidRule: template.rule };
      }
      default:
        throw new Error(`backlog: unknown entry kind ${String(kind)}`);
    }
  });
  return { entries, games, counts };
};
