/**
 * Rate-based fault injection for the DynamoDB and Upstash proxies: given a rate per kind of
 * fault and a seed, hands out the hook each proxy calls per request and counts what it
 * injected. The same seed and the same request sequence give the same faults, so a run can
 * be replayed. Game Master faults are not drawn per request: a timeout or an error there is
 * a decision of the start flow (the game is paused), so they are drawn once per game
 * ({@link drawGameMasterBehaviour}) and belong to the scenario, not to the weather.
 */
import { gameIdOf, internalError, throttled } from './dynamodb-proxy.js';
import type { DynamoDbCall, ProxyAction } from './dynamodb-proxy.js';
import type { GameMasterBehaviour } from './game-master-stub.js';
import { forwardUpstash, streamKeyOf, upstashServerError } from './upstash-proxy.js';
import type { UpstashCall, UpstashProxyAction } from './upstash-proxy.js';
import { seededRandom } from './seeded-random.js';

export { seededRandom } from './seeded-random.js';

/** Fraction (0..1) of DynamoDB requests that get each fault. */
export interface DynamoDbFaultRates {
  /** Answered `ThrottlingException` or `ProvisionedThroughputExceededException` (half each), not applied. */
  readonly throttling?: number;
  /** Answered 500 `InternalServerError`, not applied. */
  readonly serverError?: number;
  /**
   * Applied, then answered 502: the caller cannot tell whether its write happened. DynamoDB
   * documents exactly this for a 500 ("the operation may have succeeded").
   */
  readonly serverErrorAfterApply?: number;
  /** Connection cut before the request is forwarded: never applied. */
  readonly dropped?: number;
  /** Forwarded after an added delay (see {@link FaultPlanOptions.latencyMs}). */
  readonly latency?: number;
}

/** Fraction (0..1) of Upstash REST requests that get each fault. */
export interface UpstashFaultRates {
  /** Answered 500 with an error envelope, commands not run. */
  readonly serverError?: number;
  /** Answered 200 with a body that is not JSON, commands not run. */
  readonly malformed?: number;
  /** Connection cut before forwarding: commands not run (the client retries the request). */
  readonly dropped?: number;
  /** Commands run, then the connection is cut: the client retries and they run again. */
  readonly droppedAfterApply?: number;
  /** Forwarded after an added delay. */
  readonly latency?: number;
}

export interface FaultPlanOptions {
  readonly seed: number;
  readonly dynamodb?: DynamoDbFaultRates;
  readonly upstash?: UpstashFaultRates;
  /** Range of the added latency, in ms; 10–100 by default. */
  readonly latencyMs?: { readonly min: number; readonly max: number };
}

export const FaultKind = {
  dynamodbThrottling: 'dynamodb.throttling',
  dynamodbServerError: 'dynamodb.server_error',
  dynamodbServerErrorAfterApply: 'dynamodb.server_error_after_apply',
  dynamodbDropped: 'dynamodb.dropped_connection',
  dynamodbLatency: 'dynamodb.latency',
  upstashServerError: 'upstash.server_error',
  upstashMalformed: 'upstash.malformed_answer',
  upstashDropped: 'upstash.dropped_connection',
  upstashDroppedAfterApply: 'upstash.dropped_after_apply',
  upstashLatency: 'upstash.latency',
} as const;

export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/** One fault handed out, with what it hit. */
export interface InjectedFault {
  readonly kind: FaultKind;
  /** `UpdateItem`, `GetItem`, … or the Upstash command names (`XADD,XADD`). */
  readonly operation: string;
  /** The DynamoDB table, or the stream keys the Upstash commands touch. */
  readonly targets: readonly string[];
  /** `Key.gameId` of a games-table request. */
  readonly gameId?: string;
}

export interface FaultPlan {
  /** What the DynamoDB proxy does with `call`: a fault, or a plain forward. */
  dynamodb(call: DynamoDbCall): ProxyAction;
  /** What the Upstash proxy does with `call`. */
  upstash(call: UpstashCall): UpstashProxyAction;
  /** Stops (false) or resumes (true) injecting; a stopped plan forwards everything. */
  setEnabled(enabled: boolean): void;
  /** Faults injected so far, by kind (every kind present, zero when none). */
  counts(): Record<FaultKind, number>;
  /** Every fault injected so far, oldest first. */
  injected(): readonly InjectedFault[];
}

/** The proxy's answer to a malformed-answer fault: a gateway page where JSON was expected. */
const MALFORMED_BODY = '<html><body><h1>502 Bad Gateway</h1></body></html>';

const provisionedThroughputExceeded: ProxyAction = {
  kind: 'error',
  status: 400,
  type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded (injected).',
};

/** Picks the kind whose cumulative rate band `draw` falls into, in the order given. */
const pick = <K extends string>(draw: number, bands: readonly (readonly [K, number | undefined])[]): K | undefined => {
  let edge = 0;
  for (const [kind, rate] of bands) {
    edge += rate ?? 0;
    if (draw < edge) return kind;
  }
  return undefined;
};

const checkRates = (rates: object, name: string): void => {
  const values = Object.values(rates) as (number | undefined)[];
  for (const value of values) {
    if (value !== undefined && !(value >= 0 && value <= 1))
      throw new RangeError(`${name} rates must be between 0 and 1`);
  }
  const total = values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
  if (total > 1) throw new RangeError(`${name} rates add up to ${total}, more than 1`);
};

/** Builds a fault plan; see {@link FaultPlanOptions}. */
export const createFaultPlan = (options: FaultPlanOptions): FaultPlan => {
  const dynamodbRates = options.dynamodb ?? {};
  const upstashRates = options.upstash ?? {};
  checkRates(dynamodbRates, 'DynamoDB');
  checkRates(upstashRates, 'Upstash');
  const latency = options.latencyMs ?? { min: 10, max: 100 };
  const random = seededRandom(options.seed);
  const counts = Object.fromEntries(Object.values(FaultKind).map((kind) => [kind, 0])) as Record<FaultKind, number>;
  const log: InjectedFault[] = [];
  let enabled = true;

  const record = (fault: InjectedFault): void => {
    counts[fault.kind] += 1;
    log.push(fault);
  };
  const delay = (): number => latency.min + Math.floor(random() * (latency.max - latency.min + 1));

  return {
    dynamodb: (call) => {
      if (!enabled) return { kind: 'forward' };
      const kind = pick(random(), [
        [FaultKind.dynamodbThrottling, dynamodbRates.throttling],
        [FaultKind.dynamodbServerError, dynamodbRates.serverError],
        [FaultKind.dynamodbServerErrorAfterApply, dynamodbRates.serverErrorAfterApply],
        [FaultKind.dynamodbDropped, dynamodbRates.dropped],
        [FaultKind.dynamodbLatency, dynamodbRates.latency],
      ]);
      if (kind === undefined) return { kind: 'forward' };
      const gameId = gameIdOf(call);
      record({
        kind,
        operation: call.operation,
        targets: call.tableName ? [call.tableName] : [],
        ...(gameId ? { gameId } : {}),
      });
      switch (kind) {
        case FaultKind.dynamodbThrottling:
          return random() < 0.5 ? throttled : provisionedThroughputExceeded;
        case FaultKind.dynamodbServerError:
          return internalError;
        case FaultKind.dynamodbServerErrorAfterApply:
          return {
            kind: 'forward',
            after: async () => {
              // The proxy answers 502 when `after` throws: the write is in, the answer is not.
              throw new Error('injected: answer lost after the request was applied');
            },
          };
        case FaultKind.dynamodbDropped:
          return { kind: 'drop' };
        default:
          return { kind: 'forward', delayMs: delay() };
      }
    },
    upstash: (call) => {
      if (!enabled) return forwardUpstash;
      const kind = pick(random(), [
        [FaultKind.upstashServerError, upstashRates.serverError],
        [FaultKind.upstashMalformed, upstashRates.malformed],
        [FaultKind.upstashDropped, upstashRates.dropped],
        [FaultKind.upstashDroppedAfterApply, upstashRates.droppedAfterApply],
        [FaultKind.upstashLatency, upstashRates.latency],
      ]);
      if (kind === undefined) return forwardUpstash;
      const targets = [...new Set(call.commands.flatMap((command) => streamKeyOf(command) ?? []))];
      record({ kind, operation: call.names.join(','), targets });
      switch (kind) {
        case FaultKind.upstashServerError:
          return upstashServerError;
        case FaultKind.upstashMalformed:
          return { kind: 'respond', status: 200, body: MALFORMED_BODY };
        case FaultKind.upstashDropped:
          return { kind: 'drop' };
        case FaultKind.upstashDroppedAfterApply:
          return { kind: 'dropAfter' };
        default:
          return { kind: 'forward', delayMs: delay() };
      }
    },
    setEnabled: (next) => {
      enabled = next;
    },
    counts: () => ({ ...counts }),
    injected: () => [...log],
  };
};

/** Fraction (0..1) of games whose Game Master registration fails in each way. */
export interface GameMasterFaultRates {
  /** Answered 503. */
  readonly fail?: number;
  /** Answered after `slowDelayMs`, within the consumer's timeout: still a success. */
  readonly slow?: number;
  /** Never answered: the consumer's timeout makes it a failure. */
  readonly hang?: number;
}

/**
 * Draws how Game Master answers one game, for the stub's `setBehaviour`. Drawn once per game
 * and kept for every call, so a replayed registration gets the same answer and the game's
 * outcome does not depend on how often it was tried.
 */
export const drawGameMasterBehaviour = (
  random: () => number,
  rates: GameMasterFaultRates,
  slowDelayMs = 100,
): GameMasterBehaviour => {
  const kind = pick(random(), [
    ['fail', rates.fail],
    ['slow', rates.slow],
    ['hang', rates.hang],
  ] as const);
  switch (kind) {
    case 'fail':
      return { kind: 'fail', status: 503 };
    case 'slow':
      return { kind: 'slow', delayMs: slowDelayMs };
    case 'hang':
      return { kind: 'hang' };
    default:
      return { kind: 'ok' };
  }
};
