import { fieldMap } from '../domain/job-result.js';
import type { RawEntry } from '../domain/job-result.js';

/**
 * Groups a batch into per-game lanes, each in stream order, lanes ordered by their first
 * entry. Entries of one game must apply in order (a later result may depend on an earlier
 * one); entries of different games are independent and may run at once. An entry without a
 * usable `game_id` gets a lane of its own: it can only be dead-lettered.
 */
export const lanesOf = (entries: readonly RawEntry[]): RawEntry[][] => {
  const lanes = new Map<string, RawEntry[]>();
  for (const entry of entries) {
    const key = laneKeyOf(entry);
    const lane = lanes.get(key);
    if (lane) lane.push(entry);
    else lanes.set(key, [entry]);
  }
  return [...lanes.values()];
};

/** The lane an entry runs in: its game's, or its own when it has no usable `game_id`. */
export const laneKeyOf = (entry: RawEntry): string => {
  const gameId = fieldMap(entry).get('game_id')?.trim();
  return gameId ? `game:${gameId}` : `entry:${entry.id}`;
};

/** Runs `work` over `items` with at most `limit` in flight, starting them in order. */
export const forEachConcurrently = async <T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};
