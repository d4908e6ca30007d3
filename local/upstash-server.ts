import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { Redis } from 'ioredis';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOOPBACK } from './free-port.js';
import { closeHttpServer, listenOnLoopback } from './listen.js';
import { connectRedis, runCommand, runPipeline, runTransaction } from './upstash-redis.js';
import type { Answer } from './upstash-redis.js';
import { parseCommand, parseCommandList } from './upstash-protocol.js';
import type { Endpoint, JsonValue } from './upstash-protocol.js';

/** Options of {@link startUpstashServer}. */
export interface UpstashServerOptions {
  /** Port of the redis-server to forward commands to. */
  redisPort: number;
  /** The redis-server's password (`AUTH`), if it has one. */
  redisPassword?: string;
  /** Host of that redis-server; 127.0.0.1 by default. */
  redisHost?: string;
  /** The bearer token clients must present (`Authorization: Bearer …` or `?_token=…`). */
  token: string;
  /** Port to listen on (127.0.0.1 only); omitted or 0 picks a free one. */
  port?: number;
  /** Largest accepted request body; 10 MiB by default, larger bodies get 413. */
  maxBodyBytes?: number;
}

/** A running Upstash-compatible REST server. */
export interface UpstashServer {
  /** Base URL to give `new Redis({ url, token })` from `@upstash/redis`. */
  url: string;
  port: number;
  /** Stops listening, drops open connections and disconnects from redis. */
  close(): Promise<void>;
  /** HTTP requests served so far, whatever their outcome (benchmarks count round trips with it). */
  requestCount(): number;
}

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

const PATHS: Readonly<Record<string, Endpoint>> = {
  '/': 'command',
  '/pipeline': 'pipeline',
  '/multi-exec': 'multi-exec',
};

/** An answer decided before any command runs (routing, auth, body checks). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/**
 * Starts an HTTP server that speaks the subset of the Upstash Redis REST API the official
 * `@upstash/redis` client uses, in front of a real redis-server. See docs/local-stack.md for
 * the contract and for what is deliberately left out.
 *
 * Fails if redis cannot be reached at start; later outages are answered with 500.
 */
export async function startUpstashServer(options: UpstashServerOptions): Promise<UpstashServer> {
  const redisHost = options.redisHost ?? LOOPBACK;
  const redis = await connectRedis(redisHost, options.redisPort, options.redisPassword);
  const context: RequestContext = {
    tokenDigest: digest(options.token),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    execute: async (endpoint, body, base64) => execute(redis, endpoint, body, base64),
  };
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    void handleRequest(req, res, context);
  });
  let port: number;
  try {
    port = await listenOnLoopback(server, options.port);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    requestCount: () => requests,
    close: async () => {
      closed ??= closeHttpServer(server).then(() => redis.disconnect());
      return closed;
    },
  };
}

interface RequestContext {
  tokenDigest: Buffer;
  maxBodyBytes: number;
  execute: (endpoint: Endpoint, body: unknown, base64: boolean) => Promise<Answer>;
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, context: RequestContext): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const endpoint = PATHS[url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname];
    if (endpoint === undefined) {
      throw new HttpError(404, `ERR unknown path ${url.pathname}: use /, /pipeline or /multi-exec`);
    }
    if (req.method !== 'POST') {
      throw new HttpError(405, `ERR method ${String(req.method)} not allowed: use POST`, { Allow: 'POST' });
    }
    if (!isAuthorized(req, url, context.tokenDigest)) {
      throw new HttpError(401, 'WRONGPASS invalid or missing auth token');
    }
    const body = parseJson(await readBody(req, context.maxBodyBytes));
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    const answer = await context.execute(endpoint, body, base64);
    send(res, answer.status, answer.body);
  } catch (error) {
    if (error instanceof HttpError) {
      send(res, error.status, { error: error.message }, error.headers);
    } else {
      send(res, 500, { error: `ERR ${error instanceof Error ? error.message : String(error)}` });
    }
  }
}

async function execute(redis: Redis, endpoint: Endpoint, body: unknown, base64: boolean): Promise<Answer> {
  if (endpoint === 'command') {
    const command = parseCommand(body);
    if (!command.ok) {
      throw new HttpError(400, command.error);
    }
    return runCommand(redis, command.value, base64);
  }
  const commands = parseCommandList(body, endpoint);
  if (!commands.ok) {
    throw new HttpError(400, commands.error);
  }
  return endpoint === 'pipeline'
    ? runPipeline(redis, commands.value, base64)
    : runTransaction(redis, commands.value, base64);
}

/** Hashing both sides first makes the comparison constant-time whatever the token lengths. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function isAuthorized(req: IncomingMessage, url: URL, expected: Buffer): boolean {
  const header = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const presented = header?.[1] ?? url.searchParams.get('_token');
  return presented !== null && presented !== undefined && timingSafeEqual(digest(presented), expected);
}

/**
 * Reads the body up to `limit` bytes. Past the limit the rest is still read and thrown away
 * rather than the connection cut: a client still uploading would otherwise see a broken pipe
 * instead of our 413 answer.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = new HttpError(413, `ERR request body larger than ${limit} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > limit;
    if (over) {
      reject(tooLarge);
    }
    req.on('data', (chunk: Buffer) => {
      if (over) {
        return;
      }
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(tooLarge);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    // A client that gives up mid-body never sends 'end'; without this the request would
    // stay pending forever. After 'end' the rejection is a no-op.
    req.once('close', () => reject(new HttpError(400, 'ERR request aborted before the body was complete')));
  });
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpError(400, `ERR failed to parse the request body as JSON: ${(error as Error).message}`);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: JsonValue,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) {
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}
