/** Prints what the demo run did: games, published messages, the offset, the invocations. */
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from '@upstash/redis';
import type { InvocationSummary } from '../../functions/runtime-job-results/consumer/run-invocation.js';
import type { StreamNames } from '../../functions/runtime-job-results/environment.js';
import { CONSUMER_LABEL } from '../../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import type { GameMasterStub } from '../../local/game-master-stub.js';
import { demoGames } from './scenario.js';

export interface ReportInput {
  readonly documents: DynamoDBDocumentClient;
  readonly redis: Redis;
  readonly gamesTable: string;
  readonly offsetsTable: string;
  readonly streams: StreamNames;
  readonly summaries: readonly { label: string; summary: InvocationSummary }[];
  readonly gameMaster: GameMasterStub;
}

const heading = (text: string): void => console.log(`\n== ${text} ${'='.repeat(Math.max(0, 74 - text.length))}`);

const readStream = async (redis: Redis, key: string): Promise<{ id: string; fields: Record<string, string> }[]> => {
  const reply = (await redis.exec(['XRANGE', key, '-', '+'])) as [string, string[]][];
  return reply.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return { id, fields };
  });
};

export const printReport = async (input: ReportInput): Promise<void> => {
  const { Items = [] } = await input.documents.send(
    new ScanCommand({ TableName: input.gamesTable, ConsistentRead: true }),
  );
  heading('Games');
  console.table(
    Items.map((item) => ({
      game: item.gameId,
      status: item.status,
      container: (item.runtimeBinding as { containerId?: string } | undefined)?.containerId ?? '',
      'Game Master calls': input.gameMaster.callsFor(String(item.gameId)).length,
      expected: demoGames.find((g) => g.gameId === item.gameId)?.expect ?? '',
    })).sort((a, b) => String(a.game).localeCompare(String(b.game))),
  );

  heading(`Stop jobs (${input.streams.stopJobs})`);
  const stops = await readStream(input.redis, input.streams.stopJobs);
  console.table(stops.map((m) => ({ id: m.id, ...m.fields })));

  heading(`Admin notifications (${input.streams.notificationIntents})`);
  const intents = await readStream(input.redis, input.streams.notificationIntents);
  console.table(
    intents.map((m) => ({
      id: m.id,
      type: m.fields.notification_type,
      key: m.fields.idempotency_key,
      payload: m.fields.payload_json,
    })),
  );

  heading(`Dead letters (${input.streams.deadLetters})`);
  const dead = await readStream(input.redis, input.streams.deadLetters);
  console.table(
    dead.map((m) => ({
      source: m.fields.dead_letter_source_id,
      reason: m.fields.dead_letter_reason,
      game_id: m.fields.game_id ?? '',
    })),
  );

  heading('Offset');
  const { Item: offset } = await input.documents.send(
    new GetCommand({ TableName: input.offsetsTable, Key: { consumer: CONSUMER_LABEL }, ConsistentRead: true }),
  );
  const last = (await input.redis.exec(['XREVRANGE', input.streams.results, '+', '-', 'COUNT', '1'])) as [
    string,
    unknown,
  ][];
  console.log(
    `consumer ${CONSUMER_LABEL}: lastEntryId ${String(offset?.lastEntryId)} (stream ends at ${last[0]?.[0] ?? 'nothing'})`,
  );
  console.log(
    `lease: ${offset?.leaseOwner ? `held by ${String(offset.leaseOwner)}` : 'free'}; pending retries: ${JSON.stringify(offset?.attempts ?? {})}`,
  );

  heading('Invocations');
  console.table(input.summaries.map(({ label, summary }) => ({ invocation: label, ...summary })));
};
