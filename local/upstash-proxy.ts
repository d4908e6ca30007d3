/**
 * An HTTP proxy in front of the Upstash-compatible REST server (or any Upstash REST
 * endpoint) that lets a test or the soak step into the traffic, per command: answer with an
 * HTTP error or a malformed body, drop the connection before or after the command ran, add
 * latency, or run something first. The `Authorization` header is forwarded unchanged, so
 * the token is checked by the server behind, as it would be without the proxy.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOPBACK } from './free-port.js';
import { closeHttpServer, listenOnLoopback } from './listen.js';

/** One REST request as the proxy sees it. */
export interface UpstashCall {
  /** `command` (`POST /`), `pipeline` or `multi-exec`. */
  readonly endpoint: 'command' | 'pipeline' | 'multi-exec' | 'other';
  /** The commands of the request, each `[NAME, ...args]` with the name upper-cased. */
  readonly commands: readonly (readonly string[])[];
  /** The command names, upper-cased, in request order (`['XADD', 'XADD']` for a pipeline). */
  readonly names: readonly string[];
}

export type UpstashProxyAction =
  | {
      readonly kind: 'forward';
      readonly delayMs?: number;
      /** Runs before the request is forwarded. */
      readonly before?: () => Promise<void>;
      /** Runs once the server has run the commands, before the caller hears back: a crash point. */
      readonly after?: () => Promise<void>;
    }
  /** Answers without forwarding: `body` is sent as it is (JSON text, or anything malformed). */
  | { readonly kind: 'respond'; readonly status: number; readonly body: string }
  /** Cuts the connection without forwarding: the commands never run. */
  | { readonly kind: 'drop' }
  /** Forwards, lets the commands run, then cuts the connection: the caller never hears back. */
  | { readonly kind: 'dropAfter' };

export type UpstashProxyHook = (call: UpstashCall) => UpstashProxyAction | Promise<UpstashProxyAction>;

export const forwardUpstash: UpstashProxyAction = { kind: 'forward' };

/** What a failing Upstash edge answers: HTTP 500 with an error envelope. */
export const upstashServerError: UpstashProxyAction = {
  kind: 'respond',
  status: 500,
  body: JSON.stringify({ error: 'ERR internal server error (injected)' }),
};

export interface UpstashProxy {
  /** Base URL to give the Upstash client instead of the server's. */
  readonly url: string;
  /** Replaces the hook; `undefined` forwards everything. */
  setHook(hook: UpstashProxyHook | undefined): void;
  /** Commands seen so far, by upper-cased name (a pipeline counts each of its commands). */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

const ENDPOINTS: Readonly<Record<string, UpstashCall['endpoint']>> = {
  '/': 'command',
  '/pipeline': 'pipeline',
  '/multi-exec': 'multi-exec',
};

const asCommand = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.length > 0 ? value.map((part: unknown) => String(part)) : undefined;

/** Reads the commands out of a request body; a body we cannot read has none. */
const parseUpstashCall = (path: string, raw: string): UpstashCall => {
  const endpoint = ENDPOINTS[path.length > 1 ? path.replace(/\/$/, '') : path] ?? 'other';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const list: unknown[] = endpoint === 'command' ? [parsed] : Array.isArray(parsed) ? parsed : [];
  const commands = list.flatMap((item) => {
    const command = asCommand(item);
    return command === undefined ? [] : [[String(command[0]).toUpperCase(), ...command.slice(1)]];
  });
  return { endpoint, commands, names: commands.map((command) => command[0] as string) };
};

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** Headers that describe one hop, not the request: never copied across the proxy. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

const endToEndHeaders = (headers: IncomingMessage['headers']): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      typeof value === 'string' && !HOP_HEADERS.has(name) ? [[name, value]] : [],
    ),
  );

/** Starts the proxy on a free loopback port in front of `target` (the REST server's base URL). */
export const startUpstashProxy = async (target: string, hook?: UpstashProxyHook): Promise<UpstashProxy> => {
  let currentHook = hook;
  const counts: Record<string, number> = {};

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    const path = new URL(request.url ?? '/', 'http://proxy').pathname;
    const call = parseUpstashCall(path, raw.toString('utf8'));
    for (const name of call.names) counts[name] = (counts[name] ?? 0) + 1;
    const action = currentHook ? await currentHook(call) : forwardUpstash;
    if (action.kind === 'drop') {
      request.socket.destroy();
      return;
    }
    if (action.kind === 'respond') {
      response.writeHead(action.status, { 'content-type': 'application/json' });
      response.end(action.body);
      return;
    }
    if (action.kind === 'forward') {
      if (action.delayMs) await sleep(action.delayMs);
      await action.before?.();
    }
    const upstream = await fetch(`${target}${request.url ?? '/'}`, {
      method: request.method ?? 'POST',
      headers: endToEndHeaders(request.headers),
      body: raw,
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    if (action.kind === 'dropAfter') {
      request.socket.destroy();
      return;
    }
    await action.after?.();
    const outHeaders: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!HOP_HEADERS.has(name) && name !== 'content-encoding') outHeaders[name] = value;
    });
    response.writeHead(upstream.status, outHeaders);
    response.end(answer);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `ERR proxy: ${String(error)}` }));
    });
  });
  const port = await listenOnLoopback(server);

  return {
    url: `http://${LOOPBACK}:${port}`,
    setHook: (next) => {
      currentHook = next;
    },
    counts: () => ({ ...counts }),
    close: () => closeHttpServer(server),
  };
};

/** The stream key an `XADD`, `XRANGE`, `XINFO STREAM` or `EVAL` command works on, if any. */
export const streamKeyOf = (command: readonly string[]): string | undefined => {
  const [name] = command;
  if (name === 'XINFO') return command[2];
  if (name === 'EVAL' || name === 'EVALSHA') return command[3];
  return command[1];
};
