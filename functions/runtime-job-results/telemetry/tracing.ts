/**
 * Tracing with Powertools Tracer (AWS X-Ray), opt-in (`POWERTOOLS_TRACE_ENABLED=true`, set by
 * the stack's `tracing` setting together with the function's active tracing). When on, the
 * DynamoDB and Secrets Manager clients are captured, Game Master's and Upstash's `fetch`
 * calls appear through Tracer's own `fetch` instrumentation, and each invocation is a
 * subsegment annotated with how it ended.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';

/** What the handler and the cold start need of tracing. */
export interface Tracing {
  /** The client, captured so each of its calls is a subsegment; the same client when tracing is off. */
  captureAwsClient<T>(client: T): T;
  /** Runs one invocation in a subsegment of the Lambda's segment, annotated with `annotations` of its result. */
  invocation<T>(
    work: () => Promise<T>,
    annotations: (result: T) => Readonly<Record<string, string | number>>,
  ): Promise<T>;
}

/** Tracing off: nothing captured, nothing wrapped. */
export const noTracing: Tracing = {
  captureAwsClient: (client) => client,
  invocation: (work) => work(),
};

const tracing = (tracer: Tracer, handlerName: string): Tracing => ({
  captureAwsClient: (client) => tracer.captureAWSv3Client(client),
  invocation: async (work, annotations) => {
    // Manual instrumentation, as Powertools documents it without a decorator or middy.
    const segment = tracer.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${handlerName}`);
    if (subsegment !== undefined) tracer.setSegment(subsegment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    try {
      const result = await work();
      for (const [key, value] of Object.entries(annotations(result))) tracer.putAnnotation(key, value);
      return result;
    } catch (error) {
      tracer.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      subsegment?.close();
      if (segment !== undefined) tracer.setSegment(segment);
    }
  },
});

let started: Promise<Tracing> | undefined;

/**
 * Tracing for this process, started once: Tracer instruments `fetch` and `node:http` for the
 * whole process, so a second instance would trace every call twice. Tracer is loaded only
 * when tracing is on: the X-Ray SDK under it turns on Node's async hooks as soon as it is
 * loaded, which would cost every invocation CPU whether it traces or not.
 */
export const startTracing = (serviceName: string, handlerName: string): Promise<Tracing> => {
  started ??= import('@aws-lambda-powertools/tracer').then(({ Tracer }) =>
    tracing(new Tracer({ serviceName, enabled: true }), handlerName),
  );
  return started;
};
