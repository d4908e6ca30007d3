/**
 * Starts ONE local stack (redis-server, the Upstash-compatible REST server, DynamoDB Local,
 * a Game Master stub) for the whole vitest run and hands its endpoints to the test workers
 * through `provide`/`inject` (see test/support/stack.ts for the typed accessors).
 */
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../local/stack.js';
// The ProvidedContext augmentation lives there; this import makes it part of this file's types.
import type {} from './support/stack.js';

/** vitest's globalSetup entry point: a default export is what vitest looks for. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack();
  project.provide('dynamodbEndpoint', stack.dynamodb.endpoint);
  project.provide('upstashUrl', stack.upstash.url);
  project.provide('upstashToken', stack.upstash.token);
  project.provide('redisHost', stack.redis.host);
  project.provide('redisPort', stack.redis.port);
  project.provide('redisPassword', stack.redis.password);
  project.provide('gameMasterUrl', stack.gameMaster.baseUrl);
  return async () => {
    await stack.stop();
  };
}
