import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  DynamoDBServiceException,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbJsonTransport,
  regionalEndpoint,
} from '../../functions/runtime-job-results/adapters/dynamodb-json-transport.js';
import { InvocationDeadline } from '../../functions/runtime-job-results/adapters/invocation-deadline.js';
import { DeadlineReachedError } from '../../functions/runtime-job-results/errors.js';

/*
 * The games table's transport against an HTTP server that answers as DynamoDB does, for
 * what DynamoDB Local cannot show: the signature (DynamoDB Local does not check it), error
 * answers, timeouts. The start-flow, fault and soak tests run it against DynamoDB Local.
 */

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Answer = { readonly status: number; readonly body: string } | 'silence';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'session-1' };
const region = 'eu-west-1';

let server: http.Server;
let endpoint: string;
let seen: Seen[] = [];
let answers: Answer[] = [];
const open = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const answer = answers.shift() ?? { status: 200, body: '{}' };
      if (answer === 'silence') {
        open.add(response);
        return;
      }
      response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r-1' });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  for (const response of open) response.destroy();
  open.clear();
  seen = [];
  answers = [];
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const transport = (options: { requestTimeoutMs?: number; deadline?: InvocationDeadline } = {}) =>
  new DynamoDbJsonTransport({
    client: new DynamoDBClient({ region, endpoint, credentials }),
    endpoint,
    maxAttempts: 3,
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 3_000,
    deadline: options.deadline ?? new InvocationDeadline(),
  });

const input = {
  TableName: 'games',
  Key: { gameId: { S: 'g-1' } },
  UpdateExpression: 'SET #status = :to',
  ConditionExpression: '#status = :expected',
  ExpressionAttributeNames: { '#status': 'status' },
  ExpressionAttributeValues: { ':to': { S: 'running' }, ':expected': { S: 'starting' } },
  ReturnValues: 'ALL_NEW' as const,
};

const errorAnswer = (status: number, type: string, extra: Record<string, unknown> = {}): Answer => ({
  status,
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} (test)`, ...extra }),
});

const throttled = errorAnswer(400, 'ThrottlingException');

describe('the games table transport', () => {
  it("sends UpdateItem on DynamoDB JSON, with a signature the SDK's own signer agrees with", async () => {
    answers = [
      { status: 200, body: JSON.stringify({ Attributes: { gameId: { S: 'g-1' }, status: { S: 'running' } } }) },
    ];
    const output = await transport().updateItem(input);
    expect(output).toEqual({ Attributes: { gameId: { S: 'g-1' }, status: { S: 'running' } } });

    const [request] = seen;
    if (request === undefined) throw new Error('no request reached the server');
    expect(request.method).toBe('POST');
    expect(request.headers['x-amz-target']).toBe('DynamoDB_20120810.UpdateItem');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request.headers['x-amz-security-token']).toBe('session-1');
    expect(JSON.parse(request.body)).toEqual(input);

    const authorization = String(request.headers.authorization);
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
    expect(signedHeaders).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', 'x-amz-target', 'x-amz-security-token']),
    );
    // The SDK's own signer recomputes the signature from what arrived, over the same headers.
    const amzDate = String(request.headers['x-amz-date']);
    const signingDate = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const sdkSigner = new SignatureV4({
      service: 'dynamodb',
      region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: true,
      // DynamoDB requests carry no x-amz-content-sha256 header (S3's); the payload hash is signed all the same.
      applyChecksum: false,
    });
    const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(request.headers[name])]));
    const expected = await sdkSigner.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: request.url,
        query: {},
        headers,
        body: request.body,
      },
      { signingDate },
    );
    expect(authorization).toBe(expected.headers.authorization);
  });

  it('raises a failed condition as the SDK does, with the item DynamoDB returned', async () => {
    const item = { gameId: { S: 'g-1' }, status: { S: 'cancelled' } };
    answers = [errorAnswer(400, 'ConditionalCheckFailedException', { Item: item })];
    const error = await transport()
      .updateItem(input)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error).toMatchObject({ Item: item, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'r-1' } });
    expect(seen).toHaveLength(1);
  });

  it("raises an unmodelled error under its own name, and a missing table as the SDK's class; neither is retried", async () => {
    answers = [errorAnswer(400, 'ValidationException'), errorAnswer(400, 'ResourceNotFoundException')];
    const validation = await transport()
      .updateItem(input)
      .catch((caught: unknown) => caught);
    expect(validation).toBeInstanceOf(DynamoDBServiceException);
    expect(validation).toMatchObject({
      name: 'ValidationException',
      $fault: 'client',
      message: 'ValidationException (test)',
    });
    const missing = await transport()
      .updateItem(input)
      .catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(seen).toHaveLength(2);
  });

  it('retries throttling with the SDK strategy and gives up after three attempts', async () => {
    answers = [throttled, throttled];
    await expect(transport().updateItem(input)).resolves.toEqual({});
    expect(seen).toHaveLength(3);

    seen = [];
    answers = [throttled, throttled, throttled, throttled];
    const error = await transport()
      .updateItem(input)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThrottlingException);
    expect(error).toMatchObject({ $metadata: { attempts: 3 } });
    expect(seen).toHaveLength(3);
  });

  it('retries a 5xx that is not DynamoDB JSON, and names it by its status when it persists', async () => {
    const gateway: Answer = { status: 502, body: '<html>bad gateway</html>' };
    answers = [gateway, gateway, gateway];
    const error = await transport()
      .updateItem(input)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DynamoDBServiceException);
    expect(error).toMatchObject({ $fault: 'server', message: 'DynamoDB answered HTTP 502' });
    expect(seen).toHaveLength(3);
  });

  it('times out a request that gets no answer, as a retried TimeoutError', async () => {
    answers = ['silence', 'silence'];
    const started = Date.now();
    await expect(transport({ requestTimeoutMs: 200 }).updateItem(input)).resolves.toEqual({});
    expect(seen).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);

    seen = [];
    answers = ['silence', 'silence', 'silence'];
    const error = await transport({ requestTimeoutMs: 100 })
      .updateItem(input)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'TimeoutError', message: 'DynamoDB: no answer within 100 ms' });
    expect(seen).toHaveLength(3);
  });

  it("stops at the invocation's deadline with an error naming DynamoDB, and does not retry", async () => {
    answers = ['silence', 'silence', 'silence'];
    const deadline = new InvocationDeadline();
    deadline.start(400);
    try {
      const error = await transport({ deadline })
        .updateItem(input)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DeadlineReachedError);
      expect(String(error)).toMatch(/DynamoDB/);
      expect(seen).toHaveLength(1);
    } finally {
      deadline.end();
    }
  });

  it("resolves the regional endpoint with the SDK's rules", async () => {
    const endpointOf = (clientRegion: string, useFipsEndpoint = false) =>
      regionalEndpoint(new DynamoDBClient({ region: clientRegion, credentials, useFipsEndpoint }));
    await expect(endpointOf('eu-west-1')).resolves.toBe('https://dynamodb.eu-west-1.amazonaws.com/');
    await expect(endpointOf('cn-north-1')).resolves.toBe('https://dynamodb.cn-north-1.amazonaws.com.cn/');
    await expect(endpointOf('us-east-1', true)).resolves.toBe('https://dynamodb-fips.us-east-1.amazonaws.com/');
  });
});
