/**
 * Tracing, opt-in: with `POWERTOOLS_TRACE_ENABLED=true`, the real handler (in a process of its
 * own, set up as Lambda sets up a traced function) sends X-Ray segments to the daemon address:
 * the invocation's subsegment with its annotations, and subsegments for DynamoDB (the captured
 * SDK client), Game Master and Upstash (both through `fetch`). A UDP listener on loopback
 * stands in for the X-Ray daemon.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnInvocation } from '../../local/child-invocation.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

interface TraceDocument {
  readonly name: string;
  readonly type?: string;
  readonly namespace?: string;
  readonly annotations?: Record<string, unknown>;
  readonly http?: { readonly request?: { readonly url?: string; readonly method?: string } };
  readonly aws?: { readonly operation?: string };
  readonly subsegments?: readonly TraceDocument[];
}

let h: Harness;
let daemon: Socket;
const received: TraceDocument[] = [];

beforeAll(async () => {
  h = await createHarness({ POWERTOOLS_LOG_LEVEL: 'SILENT' });
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    // The daemon protocol: a JSON header line, then the segment document.
    const [, body] = message.toString('utf8').split('\n', 2);
    if (body !== undefined) received.push(JSON.parse(body) as TraceDocument);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  daemon.close();
  await h.cleanup();
});

/** Every document and the subsegments nested in them. */
const flatten = (documents: readonly TraceDocument[]): TraceDocument[] =>
  documents.flatMap((document) => [document, ...flatten(document.subsegments ?? [])]);

const traceId = (): string => `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

describe('tracing on', () => {
  it('sends the invocation, DynamoDB, Game Master and Upstash subsegments to the X-Ray daemon', async () => {
    await h.putGame({ gameId: 'traced', status: 'starting' });
    await h.addResult({ game_id: 'traced', outcome: 'success', container_id: 'c', engine_endpoint: 'http://e/' });
    const { port } = daemon.address() as AddressInfo;
    const child = spawnInvocation(
      {
        ...h.env,
        POWERTOOLS_TRACE_ENABLED: 'true',
        TIME_BUDGET_MARGIN_MS: '2000',
        // What Lambda sets for a function with active tracing.
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        LAMBDA_TASK_ROOT: fileURLToPath(new URL('../../', import.meta.url)),
        AWS_LAMBDA_FUNCTION_NAME: 'runtime-job-results',
        _X_AMZN_TRACE_ID: `Root=${traceId()};Parent=${randomBytes(8).toString('hex')};Sampled=1`,
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
      },
      10_000,
    );
    const ended = await child.ended;
    expect(ended.summary, ended.stderr).toMatchObject({ applied: 1, stoppedBy: 'drained' });
    await expect.poll(() => flatten(received).length, { timeout: 5_000 }).toBeGreaterThan(3);

    const documents = flatten(received);
    const invocation = documents.find((document) => document.name === '## runtime-job-results');
    expect(invocation?.annotations).toMatchObject({
      ColdStart: expect.any(Boolean),
      Service: 'lobby',
      stoppedBy: 'drained',
      entriesRead: 1,
      applied: 1,
    });
    const dynamodb = documents.filter((document) => document.name === 'DynamoDB');
    expect(dynamodb.map((document) => document.aws?.operation)).toEqual(expect.arrayContaining(['UpdateItem']));
    const urls = documents.flatMap((document) => document.http?.request?.url ?? []);
    expect(urls).toContainEqual(expect.stringMatching(/\/internal\/v1\/games\/traced\/runtime$/));
    const upstashPath = new URL(h.env.UPSTASH_REDIS_REST_URL ?? '').hostname;
    expect(urls.filter((url) => new URL(url).hostname === upstashPath && !url.includes('/internal/'))).not.toEqual([]);
  });
});
