/**
 * An HTTP proxy in front of DynamoDB Local that lets a test or the demo step into the
 * traffic: answer a request with a DynamoDB error (throttling, 500), drop the connection,
 * add latency, or run something first (another writer racing the consumer). DynamoDB
 * Local does not check SigV4 signatures, so requests are forwarded unchanged.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOPBACK } from './free-port.js';

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

export type ProxyAction =
  | {
      readonly kind: 'forward';
      readonly delayMs?: number;
      /** Runs before the request is forwarded: a racing writer, for example. */
      readonly before?: () => Promise<void>;
      /** Runs once DynamoDB has applied the request, before the caller hears back: a crash point. */
      readonly after?: () => Promise<void>;
    }
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message: string }
  | { readonly kind: 'drop' };

export type ProxyHook = (call: DynamoDbCall) => ProxyAction | Promise<ProxyAction>;

export const forward: ProxyAction = { kind: 'forward' };

/** DynamoDB's throttling answer, which the SDK retries and then surfaces. */
export const throttled: ProxyAction = {
  kind: 'error',
  status: 400,
  type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
  message: 'Rate of requests exceeds the allowed throughput.',
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

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const parseCall = (request: IncomingMessage, raw: Buffer): DynamoDbCall => {
  const target = String(request.headers['x-amz-target'] ?? '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
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

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

/** Starts the proxy on a free loopback port in front of `target` (DynamoDB Local's endpoint). */
export const startDynamoDbProxy = async (target: string, hook?: ProxyHook): Promise<DynamoDbProxy> => {
  let currentHook = hook;
  const counts: Record<string, number> = {};

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    const call = parseCall(request, raw);
    counts[call.operation] = (counts[call.operation] ?? 0) + 1;
    const action = currentHook ? await currentHook(call) : forward;
    if (action.kind === 'drop') {
      request.socket.destroy();
      return;
    }
    if (action.kind === 'error') {
      response.writeHead(action.status, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: action.type, message: action.message }));
      return;
    }
    if (action.delayMs) await sleep(action.delayMs);
    await action.before?.();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const upstream = await fetch(`${target}${request.url ?? '/'}`, {
      method: request.method ?? 'POST',
      headers,
      body: raw,
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    await action.after?.();
    const outHeaders: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') outHeaders[name] = value;
    });
    response.writeHead(upstream.status, outHeaders);
    response.end(answer);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'ProxyError', message: String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('DynamoDB proxy has no port');

  return {
    endpoint: `http://${LOOPBACK}:${address.port}`,
    setHook: (next) => {
      currentHook = next;
    },
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** The string value of `Key.gameId` in a games-table request, if it has one. */
export const gameIdOf = (call: DynamoDbCall): string | undefined => {
  const key = call.body.Key as Record<string, { S?: unknown }> | undefined;
  const value = key?.gameId?.S;
  return typeof value === 'string' ? value : undefined;
};
