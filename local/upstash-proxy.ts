/**
 * A proxy in front of the Upstash-compatible REST server (or any Upstash REST endpoint) that
 * lets a test or the soak step into the traffic, per command: answer with an HTTP error or a
 * malformed body, drop the connection before or after the command ran, add latency, or run
 * something first. It is the intercepting proxy with a parse hook that reads the commands;
 * the `Authorization` header is forwarded unchanged, so the server behind checks the token.
 */
import { startInterceptingProxy } from './intercepting-proxy.js';
import type { InterceptAction, InterceptHook, InterceptingProxy } from './intercepting-proxy.js';

/** One REST request as the proxy sees it. */
export interface UpstashCall {
  /** `command` (`POST /`), `pipeline` or `multi-exec`. */
  readonly endpoint: 'command' | 'pipeline' | 'multi-exec' | 'other';
  /** The commands of the request, each `[NAME, ...args]` with the name upper-cased. */
  readonly commands: readonly (readonly string[])[];
  /** The command names, upper-cased, in request order (`['XADD', 'XADD']` for a pipeline). */
  readonly names: readonly string[];
}

/** Every action of the intercepting proxy; `respond` bodies are sent as JSON. */
export type UpstashProxyAction = InterceptAction;

export type UpstashProxyHook = InterceptHook<UpstashCall>;

export const forwardUpstash: UpstashProxyAction = { kind: 'forward' };

/** What a failing Upstash edge answers: HTTP 500 with an error envelope. */
export const upstashServerError: UpstashProxyAction = {
  kind: 'respond',
  status: 500,
  body: JSON.stringify({ error: 'ERR internal server error (injected)' }),
};

/** `url` is the base URL to give the Upstash client; counts are by upper-cased command name. */
export type UpstashProxy = InterceptingProxy<UpstashCall>;

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

/** Starts the proxy on a free loopback port in front of `target` (the REST server's base URL). */
export const startUpstashProxy = async (target: string, hook?: UpstashProxyHook): Promise<UpstashProxy> =>
  startInterceptingProxy({
    target,
    parse: (request) => parseUpstashCall(new URL(request.url, 'http://proxy').pathname, request.body.toString('utf8')),
    countAs: (call) => call.names,
    contentType: 'application/json',
    failureBody: (error) => JSON.stringify({ error: `ERR proxy: ${String(error)}` }),
    hook,
  });

/** The stream key an `XADD`, `XRANGE`, `XINFO STREAM` or `EVAL` command works on, if any. */
export const streamKeyOf = (command: readonly string[]): string | undefined => {
  const [name] = command;
  if (name === 'XINFO') return command[2];
  if (name === 'EVAL' || name === 'EVALSHA') return command[3];
  return command[1];
};
