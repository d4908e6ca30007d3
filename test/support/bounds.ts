/** Request bounds for an adapter built outside an invocation: its timeout, and a deadline never armed. */
import { InvocationDeadline } from '../../functions/runtime-job-results/adapters/invocation-deadline.js';
import type { RequestBounds } from '../../functions/runtime-job-results/adapters/invocation-deadline.js';

export const testBounds = (dependency: string, timeoutMs = 10_000): RequestBounds =>
  new InvocationDeadline().bounds(dependency, timeoutMs);
