/**
 * One invocation of the real handler in a child process (`node --import tsx
 * scripts/invoke.ts`, as `npm run invoke` runs it), so a test can SIGKILL it mid-flight.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { LEASE_CLOCK_SKEW_MS } from '../../../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import type { InvocationSummary } from '../../../functions/runtime-job-results/consumer/run-invocation.js';

export interface ChildInvocation {
  readonly process: ChildProcess;
  /** How it ended, with the summary it printed (when it finished on its own). */
  readonly ended: Promise<{
    signal: NodeJS.Signals | null;
    code: number | null;
    summary?: InvocationSummary;
    stderr: string;
  }>;
}

export const spawnInvocation = (env: Record<string, string>, timeoutMs: number): ChildInvocation => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/invoke.ts'], {
    env: { ...process.env, ...env, INVOKE_TIMEOUT_MS: String(timeoutMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const ended = new Promise<Awaited<ChildInvocation['ended']>>((resolve) => {
    child.once('close', (code, signal) => {
      const line = stdout.split('\n').find((text) => text.startsWith('{"summary"'));
      const summary = line === undefined ? undefined : (JSON.parse(line) as { summary: InvocationSummary }).summary;
      resolve({ code, signal, stderr, ...(summary === undefined ? {} : { summary }) });
    });
  });
  return { process: child, ended };
};

/** How long until the offset item's lease (if any) can be taken over: its expiry plus the clock-skew allowance. */
export const leaseExpiry = (offsetItem: Record<string, unknown> | undefined): number =>
  typeof offsetItem?.leaseExpiresAt === 'number'
    ? Math.max(0, offsetItem.leaseExpiresAt + LEASE_CLOCK_SKEW_MS - Date.now() + 50)
    : 0;
