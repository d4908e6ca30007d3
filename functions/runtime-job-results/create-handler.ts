/**
 * The Lambda handler, as a factory over an environment: `handler.ts` gives it `process.env`;
 * the local runner and the integration tests give it theirs and get the same wiring.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Env } from './config.js';
import { telemetryOf } from './environment.js';
import { buildDependencies } from './dependencies.js';
import type { Dependencies } from './dependencies.js';
import { runInvocation } from './consumer/run-invocation.js';
import type { InvocationSummary } from './consumer/run-invocation.js';
import { StartFlow } from './start-flow/start-flow.js';
import { errorText } from './telemetry/log.js';
import { MetricsRecorder } from './telemetry/metrics-recorder.js';
import { noTracing, startTracing } from './telemetry/tracing.js';

export type Handler = (event: unknown, context: Context) => Promise<InvocationSummary>;

export interface HandlerOptions {
  /** Clock override for tests; defaults to `Date.now`. */
  readonly nowMs?: () => number;
  /** Receives the metrics recorded by each invocation before they are flushed. */
  readonly onMetrics?: (snapshot: Record<string, number>) => void;
}

/**
 * The lease owner of one invocation: its request id and a random part. Lambda retries an
 * asynchronous invocation with the same request id, and a test or a script may reuse one;
 * two invocations sharing an owner would each take the other's lease for its own.
 */
const leaseOwner = (requestId: string): string => `${requestId}/${randomBytes(6).toString('hex')}`;

export const createHandler = (env: Env, options: HandlerOptions = {}): Handler => {
  const nowMs = options.nowMs ?? Date.now;
  // Before the configuration is loaded, so that its failure is logged; loadConfig names a bad value.
  const { serviceName, metricsNamespace, logLevel, stage, tracing: traced } = telemetryOf(env);
  const logger = new Logger({ serviceName, logLevel, ...(stage === undefined ? {} : { persistentKeys: { stage } }) });
  const metrics = new Metrics({
    serviceName,
    namespace: metricsNamespace,
    ...(stage === undefined ? {} : { defaultDimensions: { stage } }),
  });
  const recorder = new MetricsRecorder();
  let dependencies: Promise<Dependencies> | undefined;
  // Set when a failed invocation dropped the dependencies: their rebuild reads the secrets afresh.
  let freshSecrets = false;

  const tracing = traced ? startTracing(serviceName, 'runtime-job-results') : Promise.resolve(noTracing);

  const cachedDependencies = (): Promise<Dependencies> => {
    dependencies ??= tracing
      .then((tracer) => buildDependencies(env, { freshSecrets, tracing: tracer }))
      .then(
        (built) => {
          freshSecrets = false;
          logger.appendPersistentKeys({ worker: 'lobby.runtimejobresult', stream: built.config.streams.results });
          return built;
        },
        (error: unknown) => {
          // Not cached: a Secrets Manager blip must not poison every later invocation.
          dependencies = undefined;
          logger.error('cold start failed', { err: errorText(error) });
          throw error;
        },
      );
    return dependencies;
  };

  const invoke = async (context: Context, cpuAtStart: NodeJS.CpuUsage): Promise<InvocationSummary> => {
    const { config, deadline, ...ports } = await cachedDependencies();
    deadline.start(context.getRemainingTimeInMillis());
    const startFlow = new StartFlow({
      games: ports.games,
      gameMaster: ports.gameMaster,
      publisher: ports.publisher,
      streams: config.streams,
      log: logger,
      telemetry: recorder,
      nowMs,
    });
    try {
      return await runInvocation({
        ...ports,
        process: (entry, hints) => startFlow.process(entry, hints),
        giveUp: (entry, attempts) => startFlow.giveUp(entry, attempts),
        settings: { ...config.consumer, deadLetterStream: config.streams.deadLetters },
        log: logger,
        telemetry: recorder,
        invocationId: leaseOwner(context.awsRequestId),
        nowMs,
        remainingMs: () => context.getRemainingTimeInMillis(),
        cpuTimeMs: () => {
          const { user, system } = process.cpuUsage(cpuAtStart);
          return (user + system) / 1_000;
        },
      });
    } catch (error) {
      // A rotated token or a fixed table name should be picked up without a redeploy. Whatever
      // failed the invocation (a refused token answers as any other error does), the next one
      // rebuilds its clients and reads its secrets afresh: one secret read per failed invocation.
      dependencies = undefined;
      freshSecrets = true;
      throw error;
    } finally {
      deadline.end();
      options.onMetrics?.(recorder.snapshot());
      recorder.flush(metrics);
    }
  };

  return async (_event, context) => {
    // Before the dependencies are built: a cold start's own work counts in the invocation's CPU.
    const cpuAtStart = process.cpuUsage();
    logger.addContext(context);
    return (await tracing).invocation(() => invoke(context, cpuAtStart), traceAnnotations);
  };
};

/** What the invocation's trace segment is annotated with, to find traces by how they ended. */
const traceAnnotations = (summary: InvocationSummary): Readonly<Record<string, string | number>> => ({
  stoppedBy: summary.stoppedBy,
  entriesRead: summary.entriesRead,
  applied: summary.applied,
  ignored: summary.ignored,
  invalid: summary.invalid,
  deadLettered: summary.deadLettered,
});
