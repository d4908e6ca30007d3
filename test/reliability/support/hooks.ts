/**
 * Proxy hooks the reliability tests share: matchers for the requests a fault should hit,
 * and answers that were applied but lost.
 */
import type { DynamoDbCall, ProxyAction } from '../../../local/dynamodb-proxy.js';
import type { UpstashCall } from '../../../local/upstash-proxy.js';

/** A success result with a valid container and endpoint. */
export const successFields = (gameId: string): Record<string, string> => ({
  game_id: gameId,
  outcome: 'success',
  container_id: `container-${gameId}`,
  engine_endpoint: `http://engine-${gameId}.galaxy.internal:8080/`,
});

export { isBindingWrite, isStatusWrite } from '../../../local/lobby-race.js';

/** The lease-taking `UpdateItem` on the offsets table. */
export const isLeaseAcquire = (call: DynamoDbCall): boolean =>
  call.operation === 'UpdateItem' && String(call.body.UpdateExpression).startsWith('SET leaseOwner');

/** An Upstash request that appends to `stream`. */
export const appendsTo = (call: UpstashCall, stream: string): boolean =>
  call.commands.some((command) => command[0] === 'XADD' && command[1] === stream);

/** Applies the request, then answers 502: the caller cannot tell whether it happened. */
export const appliedButAnswerLost: ProxyAction = {
  kind: 'forward',
  after: async () => {
    throw new Error('answer lost after the write was applied');
  },
};

/** `action` for the first request matching `matches`, a plain forward for every other one. */
export const once = <C, A>(matches: (call: C) => boolean, action: A, otherwise: A): ((call: C) => A) => {
  let fired = false;
  return (call) => {
    if (fired || !matches(call)) return otherwise;
    fired = true;
    return action;
  };
};
