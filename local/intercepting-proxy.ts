/**
 * An HTTP proxy on a free loopback port that lets a test, the demo or the soak step into the
 * traffic to a service: a parse hook says what each request is (a DynamoDB operation, a list of
 * Redis commands), and an action hook decides what happens to it: forward it (after a delay,
 * with something run before, or after the service answered: a crash point), answer in the
 * service's place, cut the connection before it reaches the service, or after the service ran
 * it. The DynamoDB and the Upstash fault proxies are this proxy with their own hooks.
 *
 * Requests are forwarded unchanged, headers included, so the service behind checks what it
 * always checks (an Upstash token; DynamoDB Local checks no signature).
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOPBACK } from './free-port.js';
import { closeHttpServer, listenOnLoopback } from './listen.js';

/** One request as the parse hook sees it, its body read whole. */
export interface InterceptedRequest {
  /** Path and query, as the client sent them. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What the proxy does with one request. */
export type InterceptAction =
  | {
      readonly kind: 'forward';
      readonly delayMs?: number;
      /** Runs before the request is forwarded: a racing writer, for example. */
      readonly before?: () => Promise<void>;
      /** Runs once the service has answered, before the caller hears back: a crash point. */
      readonly after?: () => Promise<void>;
    }
  /**
   * Answers without forwarding: `body` is sent as it is (the service's error format, or
   * anything malformed), as the service's content type unless `contentType` says otherwise
   * (an HTML page from something in between).
   */
  | { readonly kind: 'respond'; readonly status: number; readonly body: string; readonly contentType?: string }
  /** Cuts the connection without forwarding: the service never sees the request. */
  | { readonly kind: 'drop' }
  /** Forwards, lets the service run the request, then cuts the connection: the caller never hears back. */
  | { readonly kind: 'dropAfter' };

/** The action hook. */
export type InterceptHook<Call> = (call: Call) => InterceptAction | Promise<InterceptAction>;

const forwardUnchanged: InterceptAction = { kind: 'forward' };

/** Options of {@link startInterceptingProxy}. */
export interface InterceptingProxyOptions<Call> {
  /** Base URL of the service behind the proxy. */
  readonly target: string;
  /** The parse hook: what the request is, for the action hook and the counts. Must not throw. */
  readonly parse: (request: InterceptedRequest) => Call;
  /** The names a request is counted under (its operation, or each command of a pipeline). */
  readonly countAs: (call: Call) => readonly string[];
  /** Content type of the service's answers, for the ones the proxy gives in its place. */
  readonly contentType: string;
  /** The body answered (with 502) when forwarding itself fails, in the service's error format. */
  readonly failureBody: (error: unknown) => string;
  /** The first action hook; none forwards everything. */
  readonly hook?: InterceptHook<Call> | undefined;
}

export interface InterceptingProxy<Call> {
  /** Base URL to give the client instead of the service's. */
  readonly url: string;
  /** Replaces the action hook; `undefined` forwards everything. */
  setHook(hook: InterceptHook<Call> | undefined): void;
  /** Requests seen so far, by the names `countAs` gave them. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** Headers that describe one hop, not the request: never copied across the proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

/** The request's end-to-end headers, to send on to the service. */
const requestHeaders = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      typeof value === 'string' && !HOP_BY_HOP.has(name) ? [[name, value]] : [],
    ),
  );

/** The service's end-to-end headers, to send back with its body as it came. */
const answerHeaders = (headers: IncomingHttpHeaders): OutgoingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).filter(([name, value]) => value !== undefined && !HOP_BY_HOP.has(name)));

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Sends the request on to the service over keep-alive connections with `node:http`: the
 * proxy sits in every request of the benchmark, and `fetch` cost it about twice the CPU,
 * on the same cores as the consumer it measures.
 */
const forwardTo = (
  target: URL,
  agent: Agent,
  request: {
    readonly method: string;
    readonly url: string;
    readonly headers: IncomingHttpHeaders;
    readonly body: Buffer;
  },
): Promise<UpstreamAnswer> =>
  new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...requestHeaders(request.headers), 'content-length': request.body.length },
        agent,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
        answer.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(request.body);
  });

/** Starts the proxy on a free loopback port in front of `options.target`. */
export const startInterceptingProxy = async <Call>(
  options: InterceptingProxyOptions<Call>,
): Promise<InterceptingProxy<Call>> => {
  let hook = options.hook;
  const counts: Record<string, number> = {};
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const url = request.url ?? '/';
    const call = options.parse({ url, headers: request.headers, body });
    for (const name of options.countAs(call)) counts[name] = (counts[name] ?? 0) + 1;
    const action = hook === undefined ? forwardUnchanged : await hook(call);
    if (action.kind === 'drop') {
      request.socket.destroy();
      return;
    }
    if (action.kind === 'respond') {
      response.writeHead(action.status, { 'content-type': action.contentType ?? options.contentType });
      response.end(action.body);
      return;
    }
    if (action.kind === 'forward') {
      if (action.delayMs) await sleep(action.delayMs);
      await action.before?.();
    }
    const upstream = await forwardTo(target, agent, {
      method: request.method ?? 'POST',
      url,
      headers: request.headers,
      body,
    });
    if (action.kind === 'dropAfter') {
      request.socket.destroy();
      return;
    }
    await action.after?.();
    response.writeHead(upstream.status, answerHeaders(upstream.headers));
    response.end(upstream.body);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': options.contentType });
      response.end(options.failureBody(error));
    });
  });
  const port = await listenOnLoopback(server);

  return {
    url: `http://${LOOPBACK}:${port}`,
    setHook: (next) => {
      hook = next;
    },
    counts: () => ({ ...counts }),
    close: async () => {
      await closeHttpServer(server);
      agent.destroy();
    },
  };
};
