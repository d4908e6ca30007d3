/**
 * The seeded demo: games in `starting` and in other statuses, and results that walk every
 * path of the start flow. Each row says what the reader should see at the end.
 */
import type { GameMasterBehaviour } from '../../local/game-master-stub.js';

export interface DemoGame {
  readonly gameId: string;
  readonly gameName: string;
  readonly status: string;
  /** How Game Master answers this game's registration. */
  readonly gameMaster?: GameMasterBehaviour;
  /** Lobby cancels the game while its container starts (a race, injected at the DynamoDB proxy). */
  readonly cancelledDuringStart?: boolean;
  /** DynamoDB throttles this game's first writes; the SDK, then the consumer, retry them. */
  readonly throttled?: boolean;
  readonly expect: string;
}

export const demoGames: readonly DemoGame[] = [
  { gameId: 'andromeda', gameName: 'Andromeda Rising', status: 'starting', expect: 'running' },
  {
    gameId: 'betelgeuse',
    gameName: 'Betelgeuse Wars',
    status: 'starting',
    expect: 'start_failed (runtime reported failure)',
  },
  {
    gameId: 'cassiopeia',
    gameName: 'Cassiopeia Cup',
    status: 'starting',
    gameMaster: { kind: 'fail', status: 503 },
    expect: 'paused + admin notification (Game Master answered 503)',
  },
  {
    gameId: 'draco',
    gameName: 'Draco League',
    status: 'starting',
    cancelledDuringStart: true,
    expect: 'cancelled by Lobby mid-start: orphan container gets a stop job',
  },
  { gameId: 'eridanus', gameName: 'Eridanus Open', status: 'running', expect: 'running (stale failure ignored)' },
  { gameId: 'fornax', gameName: 'Fornax Derby', status: 'starting', expect: 'running once (result delivered twice)' },
  {
    gameId: '0042',
    gameName: 'Numeric Forty-Two',
    status: 'starting',
    expect: 'running; ids and values kept as strings',
  },
  { gameId: 'gemini', gameName: 'Gemini Finals', status: 'finished', expect: 'finished (late success ignored)' },
  {
    gameId: 'hydra',
    gameName: 'Hydra Marathon',
    status: 'starting',
    throttled: true,
    expect: 'start_failed after throttled writes were retried',
  },
  {
    gameId: 'indus',
    gameName: 'Indus Sprint',
    status: 'starting',
    gameMaster: { kind: 'slow', delayMs: 200 },
    expect: 'running (Game Master slow but within its timeout)',
  },
  { gameId: 'lyra', gameName: 'Lyra Draft', status: 'draft', expect: 'draft (no result for it)' },
];

const ok = (gameId: string, container: string): Record<string, string> => ({
  game_id: gameId,
  outcome: 'success',
  container_id: container,
  engine_endpoint: `http://engine-${gameId}.galaxy.internal:8080`,
});

/** First wave: what Runtime Manager publishes for the starts above, plus bad input. */
export const firstWave: readonly Record<string, string>[] = [
  ok('andromeda', 'ctr-a1'),
  { game_id: 'betelgeuse', outcome: 'failure', error_code: 'image_pull_failed', error_message: 'manifest unknown' },
  ok('cassiopeia', 'ctr-c1'),
  ok('draco', 'ctr-d1'),
  { game_id: 'eridanus', outcome: 'failure', error_code: 'late_report' },
  ok('fornax', 'ctr-f1'),
  ok('fornax', 'ctr-f1'),
  { ...ok('0042', '12345'), engine_endpoint: 'http://10.0.0.42:8080' },
  ok('gemini', 'ctr-g1'),
  { game_id: 'hydra', outcome: 'failure', error_code: 'oom_killed' },
  ok('indus', 'ctr-i1'),
  { outcome: 'success', container_id: 'ctr-x', engine_endpoint: 'http://x' },
  { game_id: 'bad id!', outcome: 'failure' },
  { game_id: 'andromeda', outcome: 'maybe' },
  { game_id: 'andromeda', outcome: 'success', container_id: 'ctr-y', engine_endpoint: 'not-a-url' },
  { game_id: 'ghost', outcome: 'failure', error_code: 'unknown_game' },
];

/** Second wave, a minute later: replays of results already applied. Nothing may change. */
export const secondWave: readonly Record<string, string>[] = [
  ok('andromeda', 'ctr-a1'),
  { game_id: 'betelgeuse', outcome: 'failure', error_code: 'image_pull_failed' },
  ok('cassiopeia', 'ctr-c1'),
];
