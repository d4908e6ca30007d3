/**
 * The soak's backlog: games and the results Runtime Manager published for them, drawn from
 * a seed. Every game's outcome is fixed here (Game Master's answer per game, which games
 * Lobby cancels mid-start), never by timing, so a run with crashes and faults must end
 * exactly where a quiet run of the same scenario ends.
 */
import { drawGameMasterBehaviour, seededRandom } from '../local/fault-plan.js';
import type { GameMasterBehaviour } from '../local/game-master-stub.js';

/** What the scenario makes of a game. */
export const GameCase = {
  /** Success, Game Master answers (maybe slowly): `running`. */
  running: 'running',
  /** Failure reported: `start_failed`. */
  startFailed: 'start_failed',
  /** Success, Game Master fails or hangs: `paused`, with one admin intent. */
  paused: 'paused',
  /** Success, but DynamoDB refuses the binding for good: a stop job, then `start_failed`. */
  orphan: 'orphan',
  /** Success, but Lobby cancels the game right before the binding write: ignored, no stop job. */
  cancelled: 'cancelled',
  /** The game is no longer starting when its result arrives: nothing changes. */
  stale: 'stale',
  /** The result names a game that does not exist: dead letter `game_not_found`. */
  missing: 'missing',
} as const;

export type GameCase = (typeof GameCase)[keyof typeof GameCase];

export interface SoakGame {
  readonly gameId: string;
  readonly case: GameCase;
  /** Undefined for a game that is not in the table. */
  readonly initialStatus: string | undefined;
  readonly expectedStatus: string | undefined;
  readonly gameMaster: GameMasterBehaviour;
}

export interface SoakEntry {
  readonly id: string;
  readonly fields: readonly (readonly [string, string])[];
  /** The game the entry is about, when it is a valid entry. */
  readonly gameId: string | undefined;
  /** The dead-letter reason the entry must end with, if any. */
  readonly deadLetterReason: string | undefined;
}

export interface Scenario {
  readonly seed: number;
  readonly games: readonly SoakGame[];
  readonly entries: readonly SoakEntry[];
  readonly lastEntryId: string;
}

const STALE_STATUSES = ['running', 'finished', 'cancelled', 'paused', 'start_failed', 'draft'] as const;

/** Entries that break a rule of docs/contract.md §2.2, with the reason their dead letter must carry. */
const INVALID_ENTRIES: readonly (readonly [readonly (readonly [string, string])[], string])[] = [
  [[['outcome', 'failure']], 'missing_game_id'],
  [
    [
      ['game_id', '   '],
      ['outcome', 'success'],
    ],
    'missing_game_id',
  ],
  [
    [
      ['game_id', 'bad id!'],
      ['outcome', 'failure'],
    ],
    'invalid_game_id',
  ],
  [
    [
      ['game_id', '__proto__'],
      ['outcome', 'failure'],
    ],
    'invalid_game_id',
  ],
  [
    [
      ['constructor', '{}'],
      ['game_id', 'ünïcødé'],
      ['outcome', 'success'],
    ],
    'invalid_game_id',
  ],
  [
    [
      ['game_id', 'ghost-outcome'],
      ['outcome', 'SUCCESS'],
    ],
    'unsupported_outcome',
  ],
  [
    [
      ['game_id', 'ghost-container'],
      ['outcome', 'success'],
      ['engine_endpoint', 'http://e/'],
    ],
    'missing_container_id',
  ],
  [
    [
      ['game_id', 'ghost-long'],
      ['outcome', 'success'],
      ['container_id', 'c'.repeat(300)],
      ['engine_endpoint', 'http://e/'],
    ],
    'container_id_too_long',
  ],
  [
    [
      ['game_id', 'ghost-url'],
      ['outcome', 'success'],
      ['container_id', 'c'],
      ['engine_endpoint', 'not-a-url'],
    ],
    'invalid_engine_endpoint',
  ],
  [
    [
      ['game_id', 'ghost-url2'],
      ['outcome', 'success'],
      ['container_id', 'c'],
      ['engine_endpoint', `http://e/${'x'.repeat(2_100)}`],
    ],
    'engine_endpoint_too_long',
  ],
  [
    [
      ['game_id', '123'],
      ['outcome', 'success'],
      ['container_id', '\u0000\u001b[31m'],
      ['engine_endpoint', ''],
    ],
    'missing_engine_endpoint',
  ],
];

const success = (gameId: string, n: number): [string, string][] => [
  ['game_id', gameId],
  ['outcome', 'success'],
  ['container_id', `ctr-${n}`],
  ['engine_endpoint', `http://engine-${n}.galaxy.internal:8080/`],
];

const failure = (gameId: string): [string, string][] => [
  ['game_id', gameId],
  ['outcome', 'failure'],
  ['error_code', 'image_pull_failed'],
  ['error_message', 'manifest unknown'],
];

/**
 * Draws a scenario of exactly `results` entries. Besides one result per game, some games get
 * the same result again later (an upstream duplicate) or a contradicting result after it,
 * and invalid entries are mixed in: all of them must change nothing.
 */
export const buildScenario = (results: number, seed: number, firstMs: number = Date.now()): Scenario => {
  const random = seededRandom(seed);
  const games: SoakGame[] = [];
  const entries: {
    fields: [string, string][] | readonly (readonly [string, string])[];
    gameId?: string;
    reason?: string;
  }[] = [];
  /** Follow-ups waiting to be placed a few entries later. */
  let later: { due: number; fields: [string, string][]; gameId: string; reason: string | undefined }[] = [];

  const addGame = (n: number): void => {
    // Some ids look like numbers: they must stay strings all the way.
    const gameId = n % 11 === 0 ? `00${n}` : `game-${n}`;
    const draw = random();
    let game: SoakGame;
    let fields: [string, string][];
    let reason: string | undefined;
    if (draw < 0.36) {
      const gameMaster = drawGameMasterBehaviour(random, { slow: 0.15 });
      game = { gameId, case: GameCase.running, initialStatus: 'starting', expectedStatus: 'running', gameMaster };
      fields = success(gameId, n);
    } else if (draw < 0.56) {
      game = {
        gameId,
        case: GameCase.startFailed,
        initialStatus: 'starting',
        expectedStatus: 'start_failed',
        gameMaster: { kind: 'ok' },
      };
      fields = failure(gameId);
    } else if (draw < 0.68) {
      const gameMaster = drawGameMasterBehaviour(random, { fail: 0.7, hang: 0.3 });
      game = { gameId, case: GameCase.paused, initialStatus: 'starting', expectedStatus: 'paused', gameMaster };
      fields = success(gameId, n);
    } else if (draw < 0.73) {
      game = {
        gameId,
        case: GameCase.orphan,
        initialStatus: 'starting',
        expectedStatus: 'start_failed',
        gameMaster: { kind: 'ok' },
      };
      fields = success(gameId, n);
    } else if (draw < 0.77) {
      game = {
        gameId,
        case: GameCase.cancelled,
        initialStatus: 'starting',
        expectedStatus: 'cancelled',
        gameMaster: { kind: 'ok' },
      };
      fields = success(gameId, n);
    } else if (draw < 0.9) {
      const status = STALE_STATUSES[Math.floor(random() * STALE_STATUSES.length)] ?? 'running';
      game = {
        gameId,
        case: GameCase.stale,
        initialStatus: status,
        expectedStatus: status,
        gameMaster: { kind: 'ok' },
      };
      fields = random() < 0.5 ? success(gameId, n) : failure(gameId);
    } else {
      game = {
        gameId,
        case: GameCase.missing,
        initialStatus: undefined,
        expectedStatus: undefined,
        gameMaster: { kind: 'ok' },
      };
      fields = random() < 0.5 ? success(gameId, n) : failure(gameId);
      reason = 'game_not_found';
    }
    games.push(game);
    entries.push({ fields, gameId, ...(reason ? { reason } : {}) });
    const followUp = random();
    if (followUp < 0.08) {
      // The same result published twice upstream.
      later.push({ due: entries.length + 1 + Math.floor(random() * 40), fields, gameId, reason });
    } else if (followUp < 0.12) {
      // A contradicting late result for a game whose start flow already ended.
      const contradiction = fields[1]?.[1] === 'success' ? failure(gameId) : success(gameId, n);
      later.push({ due: entries.length + 1 + Math.floor(random() * 40), fields: contradiction, gameId, reason });
    }
  };

  for (let n = 1; entries.length < results; n += 1) {
    const due = later.filter((item) => item.due <= entries.length);
    later = later.filter((item) => item.due > entries.length);
    for (const item of due) {
      if (entries.length < results)
        entries.push({ fields: item.fields, gameId: item.gameId, ...(item.reason ? { reason: item.reason } : {}) });
    }
    if (entries.length >= results) break;
    if (random() < 0.08) {
      const [fields, reason] = INVALID_ENTRIES[
        Math.floor(random() * INVALID_ENTRIES.length)
      ] as (typeof INVALID_ENTRIES)[number];
      entries.push({ fields, reason });
    } else {
      addGame(n);
    }
  }

  const soakEntries: SoakEntry[] = entries.map((entry, index) => ({
    id: `${firstMs}-${index + 1}`,
    fields: entry.fields,
    gameId: entry.gameId,
    deadLetterReason: entry.reason,
  }));
  return { seed, games, entries: soakEntries, lastEntryId: soakEntries.at(-1)?.id ?? '0-0' };
};
