/**
 * Writes a backlog where the consumer will find it: its games (`starting`) into the games
 * table with BatchWriteItem, its results onto the results stream with one pipelined XADD
 * burst, and the Game Master stub's answer for each game. Seeding goes around the counting
 * proxy and the REST server, so it never shows in the consumer's request counts.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GameMasterStub } from '../local/game-master-stub.js';
import type { Backlog } from './backlog.js';

/** BatchWriteItem's limit. */
const BATCH_WRITE_ITEMS = 25;
/** BatchWrite requests in flight at once: enough to keep DynamoDB Local busy on two cores. */
const BATCH_WRITE_CONCURRENCY = 4;
const MAX_UNPROCESSED_RETRIES = 10;

/** Creates every game of the backlog as `starting`; `onProgress` gets the number written so far. */
export const putGames = async (
  documents: DynamoDBDocumentClient,
  tableName: string,
  backlog: Backlog,
  onProgress: (written: number) => void = () => undefined,
): Promise<void> => {
  const chunks: Record<string, unknown>[][] = [];
  for (let start = 0; start < backlog.games.length; start += BATCH_WRITE_ITEMS) {
    chunks.push(
      backlog.games.slice(start, start + BATCH_WRITE_ITEMS).map(({ gameId }) => ({
        gameId,
        gameName: `Bench ${gameId}`,
        status: 'starting',
        targetEngineVersion: '1.9.0',
        turnSchedule: '0 */6 * * *',
        createdBy: 'lobby-bench',
      })),
    );
  }
  let written = 0;
  let next = 0;
  const writeChunks = async (): Promise<void> => {
    while (next < chunks.length) {
      const chunk = chunks[next] as Record<string, unknown>[];
      next += 1;
      let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt > MAX_UNPROCESSED_RETRIES)
          throw new Error(`seeding games: ${requests.length} items left unprocessed`);
        if (attempt > 0) await sleep(20 * attempt);
        const { UnprocessedItems } = await documents.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
        );
        requests = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
      written += chunk.length;
      onProgress(written);
    }
  };
  await Promise.all(Array.from({ length: BATCH_WRITE_CONCURRENCY }, writeChunks));
};

/**
 * Tells the stub which games fail. Per game rather than the stub's `failureRate`: that rate
 * draws per call, so which game fails would depend on the order calls arrive in, and modes
 * that call in different orders could not end in the same state.
 */
export const configureGameMaster = (gameMaster: GameMasterStub, backlog: Backlog): void => {
  gameMaster.reset();
  for (const game of backlog.games) {
    if (game.gameMasterFails) gameMaster.setBehaviour(game.gameId, { kind: 'fail', status: 500 });
  }
};

/** Appends the first `count` results to `stream` in order; returns their entry ids. */
export const addResults = async (
  redis: Redis,
  stream: string,
  backlog: Backlog,
  count = backlog.entries.length,
): Promise<string[]> => {
  const pipeline = redis.pipeline();
  for (const entry of backlog.entries.slice(0, count))
    pipeline.xadd(stream, '*', ...Object.entries(entry.fields).flat());
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, id], index) => {
    if (error !== null || typeof id !== 'string')
      throw new Error(`XADD of backlog entry ${index} failed: ${String(error)}`);
    return id;
  });
};
