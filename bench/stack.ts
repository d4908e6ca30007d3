/**
 * What the benchmark needs from the local stack: endpoints, the Upstash-compatible server's
 * request counter, a Game Master stub it can steer, and the process groups whose CPU time it
 * accounts. `npm run bench` fills it from `startLocalStack`; the test from the shared test
 * stack plus its own Upstash server and stub.
 */
import type { GameMasterStub } from '../local/game-master-stub.js';
import type { LocalStack } from '../local/stack.js';

export interface BenchStack {
  /** DynamoDB Local itself; the benchmark puts its counting proxy in front for the consumer. */
  readonly dynamodbEndpoint: string;
  readonly upstashUrl: string;
  readonly upstashToken: string;
  /** The redis-server behind the REST server: the backlog is written and read here directly. */
  readonly redis: { readonly host: string; readonly port: number; readonly password: string };
  /** HTTP requests the Upstash-compatible server has served so far. */
  upstashRequestCount(): number;
  readonly gameMaster: GameMasterStub;
  /** Process groups of the stack's children, for CPU accounting (absent: not accounted). */
  readonly processGroups: { readonly dynamodbLocal?: number; readonly redis?: number };
}

/** The bench view of a stack started by `startLocalStack`. */
export const benchStackOf = (stack: LocalStack): BenchStack => ({
  dynamodbEndpoint: stack.dynamodb.endpoint,
  upstashUrl: stack.upstash.url,
  upstashToken: stack.upstash.token,
  redis: { host: stack.redis.host, port: stack.redis.port, password: stack.redis.password },
  upstashRequestCount: () => stack.upstash.server.requestCount(),
  gameMaster: stack.gameMaster,
  processGroups: { dynamodbLocal: stack.dynamodb.pid, redis: stack.redis.pid },
});
