/**
 * A proxy in front of DynamoDB Local that lets a test or the demo step into the traffic:
 * answer a request with a DynamoDB error (throttling, 500), drop the connection, add latency,
 * or run something first (another writer racing the consumer). It is the intercepting proxy
 * with a parse hook that reads the operation and the JSON request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { startInterceptingProxy } from './intercepting-proxy.js';
import type { InterceptAction, InterceptedRequest } from './intercepting-proxy.js';

/** One DynamoDB API call as the proxy sees it. */
export interface DynamoDbCall {
  /** `GetItem`, `UpdateItem`, … (from `X-Amz-Target`). */
  readonly operation: string;
  readonly tableName: string | undefined;
  /** The JSON request, in DynamoDB's wire format (`{"S": "…"}`). */
  readonly body: Record<string, unknown>;
  /** The request's headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
}

/**
 * Forward (maybe late, maybe with a racing write or a crash point), drop, answer a DynamoDB
 * error, or answer anything else in DynamoDB's place (`respond`: what a proxy, a WAF or a load
 * balancer in between might send).
 */
export type ProxyAction =
  | Extract<InterceptAction, { readonly kind: 'forward' | 'drop' | 'respond' }>
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message: string };

export type ProxyHook = (call: DynamoDbCall) => ProxyAction | Promise<ProxyAction>;

export const forward: ProxyAction = { kind: 'forward' };

/** DynamoDB's throttling answer, which the SDK retries and then surfaces. */
export const throttled: ProxyAction = {
  kind: 'error',
  status: 400,
  type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
  message: 'Rate of requests exceeds the allowed throughput.',
};

/** DynamoDB refusing a write for good, as it does one that would make the item pass 400 KB. */
export const refusedForGood: ProxyAction = {
  kind: 'error',
  status: 400,
  type: 'com.amazon.coral.validate#ValidationException',
  message: 'Item size has exceeded the maximum allowed size',
};

export const internalError: ProxyAction = {
  kind: 'error',
  status: 500,
  type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  message: 'Internal server error (injected)',
};

export interface DynamoDbProxy {
  readonly endpoint: string;
  /** Replaces the hook; `undefined` forwards everything. */
  setHook(hook: ProxyHook | undefined): void;
  /** Calls seen so far, by operation. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

const parseCall = (request: InterceptedRequest): DynamoDbCall => {
  const target = String(request.headers['x-amz-target'] ?? '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(request.body.toString('utf8') || '{}');
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: forwarded as it is, DynamoDB Local will answer the error.
  }
  return {
    operation: target.split('.').pop() ?? '',
    tableName: typeof body.TableName === 'string' ? body.TableName : undefined,
    body,
    headers: request.headers,
  };
};

const DYNAMODB_CONTENT_TYPE = 'application/x-amz-json-1.0';

/** A DynamoDB error is an answer in DynamoDB's error format; the other actions are the proxy's own. */
const interceptAction = (action: ProxyAction): InterceptAction =>
  action.kind === 'error'
    ? { kind: 'respond', status: action.status, body: JSON.stringify({ __type: action.type, message: action.message }) }
    : action;

const intercepting = (hook: ProxyHook | undefined) =>
  hook === undefined ? undefined : async (call: DynamoDbCall) => interceptAction(await hook(call));

/** Starts the proxy on a free loopback port in front of `target` (DynamoDB Local's endpoint). */
export const startDynamoDbProxy = async (target: string, hook?: ProxyHook): Promise<DynamoDbProxy> => {
  const proxy = await startInterceptingProxy({
    target,
    parse: parseCall,
    countAs: (call) => [call.operation],
    contentType: DYNAMODB_CONTENT_TYPE,
    failureBody: (error) => JSON.stringify({ __type: 'ProxyError', message: String(error) }),
    hook: intercepting(hook),
  });
  return {
    endpoint: proxy.url,
    setHook: (next) => proxy.setHook(intercepting(next)),
    counts: proxy.counts,
    close: proxy.close,
  };
};

/** The string value of `Key.gameId` in a games-table request, if it has one. */
export const gameIdOf = (call: DynamoDbCall): string | undefined => {
  const key = call.body.Key as Record<string, { S?: unknown }> | undefined;
  const value = key?.gameId?.S;
  return typeof value === 'string' ? value : undefined;
};
