/**
 * Records when each offset commit reached DynamoDB, as seen by the counting proxy in front
 * of it. Watching the wire instead of wrapping the offset store keeps the handler under test
 * exactly the one `createHandler` builds.
 */
import { forward } from '../local/dynamodb-proxy.js';
import type { DynamoDbCall, ProxyHook } from '../local/dynamodb-proxy.js';
import { compareEntryIds, entryIdOf } from '../functions/runtime-job-results/domain/entry-id.js';

/** The offset passed `lastEntryId` at `atMs` (epoch ms, DynamoDB had applied the write). */
export interface OffsetCommit {
  readonly atMs: number;
  readonly lastEntryId: string;
}

export interface OffsetCommitRecorder {
  /** The proxy hook: forwards everything, noting offset commits once applied. */
  readonly hook: ProxyHook;
  commits(): readonly OffsetCommit[];
}

/**
 * The offset store's commit is the only `UpdateItem` on the offsets table that sets
 * `lastEntryId` (lease and release do not); its new value is `:id`.
 */
const committedId = (call: DynamoDbCall, offsetsTable: string): string | undefined => {
  if (call.operation !== 'UpdateItem' || call.tableName !== offsetsTable) return undefined;
  if (!String(call.body.UpdateExpression ?? '').includes('lastEntryId')) return undefined;
  const values = call.body.ExpressionAttributeValues as Record<string, { S?: unknown }> | undefined;
  const id = values?.[':id']?.S;
  return typeof id === 'string' ? id : undefined;
};

/** `onCommit` runs for every commit (the progress bar follows it). */
export const recordOffsetCommits = (
  offsetsTable: string,
  onCommit: (commit: OffsetCommit) => void = () => undefined,
): OffsetCommitRecorder => {
  const commits: OffsetCommit[] = [];
  return {
    hook: (call) => {
      const lastEntryId = committedId(call, offsetsTable);
      if (lastEntryId === undefined) return forward;
      return {
        kind: 'forward',
        after: async () => {
          const commit = { atMs: Date.now(), lastEntryId };
          commits.push(commit);
          onCommit(commit);
        },
      };
    },
    commits: () => [...commits],
  };
};

/**
 * For each entry id (in stream order), when the first offset commit at or past it was
 * applied; undefined for entries the offset never passed.
 */
export const passedAt = (entryIds: readonly string[], commits: readonly OffsetCommit[]): (number | undefined)[] => {
  const ordered = [...commits].sort((a, b) => a.atMs - b.atMs);
  const times: (number | undefined)[] = [];
  let commitIndex = 0;
  for (const id of entryIds) {
    while (
      commitIndex < ordered.length &&
      compareEntryIds((ordered[commitIndex] as OffsetCommit).lastEntryId, id) < 0
    ) {
      commitIndex += 1;
    }
    times.push(ordered[commitIndex]?.atMs);
  }
  return times;
};

/** Milliseconds from the entry's id time (when Redis added it) to when the offset passed it. */
export const entryLatenciesMs = (entryIds: readonly string[], commits: readonly OffsetCommit[]): number[] =>
  passedAt(entryIds, commits).flatMap((at, index) =>
    at === undefined ? [] : [Math.max(0, at - Number(entryIdOf(entryIds[index] as string).ms))],
  );
