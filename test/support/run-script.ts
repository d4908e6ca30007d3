/** Runs one of the project's TypeScript entry points as a process, the way its npm script would. */
import { execFile } from 'node:child_process';

/** How the process ended and what it printed. */
export interface ScriptExit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `node --import tsx <file> <args>` with only PATH and `env` in its environment, so nothing of
 * the test run's own environment (the SDK warning switch among it) leaks into the child. A
 * script that does not exit on its own (an open socket) fails after `timeoutMs` rather than
 * hangs the test.
 */
export const runScript = (
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<ScriptExit> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file, ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      },
    );
  });
