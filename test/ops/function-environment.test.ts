/**
 * `--function <name>`: the CLI configured from the deployed function. Lambda and Secrets
 * Manager are stand-ins for their APIs on loopback (the SDK reads `AWS_ENDPOINT_URL_*`);
 * DynamoDB and Upstash are the local stack's, so the command itself runs for real.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, UsageError } from '../../ops/errors.js';
import { functionEnvironment } from '../../ops/function-environment.js';
import type { FunctionConfigurationReader } from '../../ops/function-environment.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { runScript } from '../support/run-script.js';

const FUNCTION_NAME = 'GalaxyStartFlow-prod-ConsumerFunction1B019A9B-AbCdEf';
const FUNCTION_ARN = `arn:aws:lambda:eu-west-1:123456789012:function:${FUNCTION_NAME}`;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:galaxy/prod/upstash-AbCdEf';

/** A reader that answers with `variables`, and records what it was asked. */
const fakeLambda = (variables: Record<string, string> | Error) => {
  const asked: string[] = [];
  const reader: FunctionConfigurationReader = {
    send: async (command: GetFunctionConfigurationCommand) => {
      asked.push(command.input.FunctionName ?? '');
      if (variables instanceof Error) throw variables;
      return { FunctionArn: FUNCTION_ARN, Environment: { Variables: variables } };
    },
  };
  return { reader, asked };
};

const DEPLOYED = {
  GAMES_TABLE: 'lobby-prod-games',
  OFFSETS_TABLE: 'start-flow-prod-offsets',
  RESULTS_STREAM: 'runtime:job_results',
  UPSTASH_REDIS_REST_URL: 'https://eu1-example.upstash.io',
  UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: SECRET_ARN,
  GM_BASE_URL: 'https://gm.example.com',
  STAGE: 'prod',
  POWERTOOLS_TRACE_ENABLED: 'true',
  NODE_OPTIONS: '--enable-source-maps',
  // Lambda's own, not the function's.
  AWS_LAMBDA_EXEC_WRAPPER: '/opt/wrapper',
};

describe('functionEnvironment', () => {
  it("takes the function's own variables and its region, and nothing else", async () => {
    const { reader, asked } = fakeLambda(DEPLOYED);
    const env = await functionEnvironment(reader, FUNCTION_NAME);
    expect(asked).toEqual([FUNCTION_NAME]);
    const { NODE_OPTIONS: _node, AWS_LAMBDA_EXEC_WRAPPER: _wrapper, ...read } = DEPLOYED;
    expect(env).toEqual({ ...read, AWS_REGION: 'eu-west-1' });
  });

  it('says when the function does not exist, with exit code 5', async () => {
    const missing = Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' });
    await expect(functionEnvironment(fakeLambda(missing).reader, 'nope')).rejects.toThrow(NotFoundError);
    await expect(functionEnvironment(fakeLambda(missing).reader, 'nope')).rejects.toThrow(/function nope not found/);
  });

  it('refuses a function that is not a start-flow consumer', async () => {
    await expect(functionEnvironment(fakeLambda({ FOO: 'bar' }).reader, 'other')).rejects.toThrow(UsageError);
  });
});

describe('bin/ops.ts --function', () => {
  let h: Harness;
  let server: Server;
  const requests: string[] = [];
  let endpoint = '';

  beforeAll(async () => {
    h = await createHarness();
    // What the function's configuration would hold for this stack: its names, and the token's ARN.
    const { UPSTASH_REDIS_REST_TOKEN: token = '', ...rest } = h.env;
    const variables = {
      ...rest,
      UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: SECRET_ARN,
      NODE_OPTIONS: '--enable-source-maps',
    };
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        requests.push(target === '' ? `${request.method} ${request.url}` : `${target} ${body}`);
        if (target === 'secretsmanager.GetSecretValue') {
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          response.end(JSON.stringify({ ARN: SECRET_ARN, Name: 'galaxy/prod/upstash', SecretString: token }));
          return;
        }
        if (request.url === `/2015-03-31/functions/${FUNCTION_NAME}/configuration`) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({
              FunctionName: FUNCTION_NAME,
              FunctionArn: FUNCTION_ARN,
              Environment: { Variables: variables },
            }),
          );
          return;
        }
        response.writeHead(404, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'ResourceNotFoundException',
        });
        response.end(JSON.stringify({ Type: 'User', message: 'Function not found' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    endpoint = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.cleanup();
  });

  /** The CLI with nothing of the stack in its environment: only credentials and the stand-ins' endpoints. */
  const ops = (args: readonly string[]) =>
    runScript(
      'bin/ops.ts',
      args,
      {
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_LAMBDA: endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
        // No shared AWS config or credentials file of this machine's user.
        HOME: '/nonexistent',
      },
      20_000,
    );

  it("runs a command with the function's configuration and the token from Secrets Manager", async () => {
    const entry = await h.addResult({ game_id: 'fn-1', outcome: 'failure' });
    const status = await ops(['--function', FUNCTION_NAME, '--region', 'eu-west-1', '--json', 'status']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      stream: { key: h.streams.results, length: 1, oldestBehindId: entry },
    });
    expect(requests).toEqual(
      expect.arrayContaining([
        `GET /2015-03-31/functions/${FUNCTION_NAME}/configuration`,
        `secretsmanager.GetSecretValue ${JSON.stringify({ SecretId: SECRET_ARN })}`,
      ]),
    );
  });

  it('exits 5 when there is no such function', async () => {
    const missing = await ops(['--function', 'nope', '--region', 'eu-west-1', 'status']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('function nope not found');
  });
});
