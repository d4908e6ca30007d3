/**
 * The benchmark's drain child: the real handler (`createHandler`, as handler.ts builds it)
 * invoked back to back, as the schedule would invoke it with a backlog waiting, until an
 * invocation finds the stream drained. A process of its own, so that its peak RSS is the
 * handler's and not the benchmark's. Run bundled (bench/drain-process.ts), like the Lambda.
 */
import { createHandler } from '../functions/runtime-job-results/create-handler.js';
import { StoppedBy } from '../functions/runtime-job-results/consumer/run-invocation.js';
import { lambdaContext, scheduledEvent } from '../scripts/support/lambda-context.js';
import type { ChildMessage, DrainJob, GoMessage, InvocationRecord } from './drain-protocol.js';

const send = (message: ChildMessage): Promise<void> =>
  new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('drain child: no IPC channel (start it with fork)'));
      return;
    }
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });

const drain = async (job: DrainJob): Promise<void> => {
  const handler = createHandler(job.env);
  const invocations: InvocationRecord[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (;;) {
    const invocationStarted = performance.now();
    const summary = await handler(scheduledEvent(), lambdaContext(job.timeoutMs));
    const record = { summary, durationMs: performance.now() - invocationStarted };
    invocations.push(record);
    await send({ type: 'invocation', record });
    if (job.until === 'stopped') continue;
    if (summary.stoppedBy === StoppedBy.drained) break;
    if (invocations.length >= job.maxInvocations) {
      throw new Error(`not drained after ${invocations.length} invocations (last stopped by ${summary.stoppedBy})`);
    }
  }
  const drainMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await send({
    type: 'done',
    invocations,
    drainMs,
    maxRssKb: process.resourceUsage().maxRSS,
    cpuMs: { user: cpu.user / 1_000, system: cpu.system / 1_000 },
  });
};

const job = JSON.parse(process.argv[2] ?? '{}') as DrainJob;
process.on('message', (message: GoMessage) => {
  if (message.type !== 'go') return;
  drain(job).then(
    // The SDK's and Upstash client's keep-alive sockets would hold the process open.
    () => process.exit(0),
    async (error: unknown) => {
      await send({
        type: 'error',
        message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      }).catch(() => undefined);
      process.exit(1);
    },
  );
});
await send({ type: 'ready' });
