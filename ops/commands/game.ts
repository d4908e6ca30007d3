/**
 * `game show <gameId>`: a game as the start flow left it — status, runtime binding, the
 * last transition it made and an unpublished intent, if any.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbRequest } from '../../functions/runtime-job-results/adapters/dynamodb-errors.js';
import type { OpsContext } from '../context.js';
import { NotFoundError, UsageError } from '../errors.js';
import { fieldsText, sectionText } from '../output.js';

export interface GameView {
  readonly gameId: string;
  readonly gameName: unknown;
  readonly status: unknown;
  readonly statusChangedAt: unknown;
  readonly updatedAt: unknown;
  readonly runtimeBinding: unknown;
  readonly lastTransition: unknown;
  readonly pendingIntent: unknown;
  /** The whole item, Lobby's attributes included. */
  readonly item: Readonly<Record<string, unknown>>;
}

const scalar = (value: unknown): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);

/** A map attribute as aligned lines, `order` first (DynamoDB keeps no order inside a map). */
const mapText = (value: unknown, order: readonly string[]): string => {
  if (typeof value !== 'object' || value === null) return '(none)';
  const rank = (key: string): number => (order.includes(key) ? order.indexOf(key) : order.length);
  return fieldsText(
    Object.entries(value)
      .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
      .map(([key, field]) => [key, scalar(field)] as const),
  );
};

export const gameShow = async (ctx: OpsContext, gameId: string): Promise<GameView> => {
  if (gameId.trim() === '') throw new UsageError('give a game id');
  const table = ctx.dependencies.config.dynamodb.gamesTable;
  const { Item } = await dynamoDbRequest(table, ctx.dependencies.bounds.dynamodb, (abortSignal) =>
    ctx.documents.send(new GetCommand({ TableName: table, Key: { gameId }, ConsistentRead: true }), { abortSignal }),
  );
  if (Item === undefined) throw new NotFoundError(`game ${JSON.stringify(gameId)} is not in table ${table}`);
  const view: GameView = {
    gameId,
    gameName: Item.gameName,
    status: Item.status,
    statusChangedAt: Item.statusChangedAt,
    updatedAt: Item.updatedAt,
    runtimeBinding: Item.runtimeBinding,
    lastTransition: Item.lastTransition,
    pendingIntent: Item.pendingIntent,
    item: Item,
  };
  ctx.output.result(view, () =>
    [
      sectionText(
        `Game ${gameId}`,
        fieldsText([
          ['name', scalar(view.gameName)],
          ['status', scalar(view.status)],
          ['status changed at', scalar(view.statusChangedAt)],
          ['updated at', scalar(view.updatedAt)],
        ]),
      ),
      sectionText(
        'Runtime binding',
        mapText(view.runtimeBinding, ['containerId', 'engineEndpoint', 'runtimeJobId', 'boundAt']),
      ),
      sectionText('Last transition', mapText(view.lastTransition, ['from', 'to', 'trigger', 'at', 'sourceEntryId'])),
      sectionText(
        'Pending intent (unpublished)',
        mapText(view.pendingIntent, [
          'idempotencyKey',
          'sourceEntryId',
          'notificationType',
          'occurredAtMs',
          'payloadJson',
        ]),
      ),
    ].join('\n\n'),
  );
  return view;
};
