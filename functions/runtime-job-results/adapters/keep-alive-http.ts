import http from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { InvocationDeadline } from './invocation-deadline.js';
import { RequestWatch } from './request-watch.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface KeepAliveHttpOptions {
  /** A new connection that is not up within this long fails the request with `timeoutError`. */
  readonly connectionTimeoutMs: number;
  /** Cuts every request still waiting when the invocation's deadline is near. */
  readonly deadline: InvocationDeadline | undefined;
  /**
   * Closes a connection idle this long, before the server's own idle timeout can drop it
   * under a new request. Left out where the client retries a reset itself: a socket timeout
   * is re-armed on every request, at a cost.
   */
  readonly idleTimeoutMs?: number;
}

/** As many sockets as the AWS SDK's own handler keeps, more than the consumer's lanes. */
const MAX_SOCKETS = 50;

/**
 * `node:http(s)` requests to one origin over keep-alive connections (reused across the
 * requests of a warm Lambda): the hot path's transport, for Game Master and the games
 * table. Each request is bounded by its timeout and the invocation's deadline through one
 * {@link RequestWatch}, and by a connection timeout when it needs a new socket. The request
 * options are built once per origin, not parsed from a URL per request. Redirects are
 * never followed.
 */
export class KeepAliveHttp {
  readonly #base: http.RequestOptions;
  readonly #request: typeof http.request;
  readonly #connectionTimeoutMs: number;
  readonly #watch: RequestWatch;

  constructor(origin: URL, options: KeepAliveHttpOptions) {
    const secure = origin.protocol === 'https:';
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: MAX_SOCKETS,
      ...(options.idleTimeoutMs === undefined ? {} : { timeout: options.idleTimeoutMs }),
    };
    this.#base = {
      protocol: origin.protocol,
      hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'),
      ...(origin.port === '' ? {} : { port: Number(origin.port) }),
      agent: secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions),
    };
    this.#request = secure ? https.request : http.request;
    this.#connectionTimeoutMs = options.connectionTimeoutMs;
    this.#watch = new RequestWatch(options.deadline);
  }

  /**
   * Sends one request and reads its answer to the end (so the connection can be reused),
   * whatever its status. Fails with `timeoutError(…)` when no answer came within
   * `timeoutMs` or no connection within the connection timeout, with the deadline's reason
   * when the invocation's deadline cut it, or with the socket's error.
   */
  send(
    request: {
      readonly method: string;
      readonly path: string;
      readonly headers: OutgoingHttpHeaders;
      readonly body: string;
    },
    timeoutMs: number,
    timeoutError: (what: string) => Error,
  ): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const { method, path, headers, body } = request;
      const outgoing = this.#request({ ...this.#base, method, path, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          watched.end();
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
        });
        response.on('error', fail);
      });
      // Timed out or cut at the deadline: the watch's reason, not the socket error it causes.
      const watched = this.#watch.watch(
        (reason) => outgoing.destroy(reason),
        timeoutMs,
        () => timeoutError(`no answer within ${timeoutMs} ms`),
      );
      function fail(error: Error): void {
        watched.end();
        reject(watched.reason ?? error);
      }
      outgoing.on('socket', (socket) => {
        if (!socket.connecting) return;
        const connectionTimeoutMs = this.#connectionTimeoutMs;
        const timer = setTimeout(
          () => outgoing.destroy(timeoutError(`no connection within ${connectionTimeoutMs} ms`)),
          connectionTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      outgoing.on('error', fail);
      outgoing.end(body);
    });
  }
}
