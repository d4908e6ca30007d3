/**
 * Runs some work and returns the JSON lines it wrote to stdout and stderr (the Powertools
 * logger's output), parsed; other output is dropped.
 */
import { vi } from 'vitest';

export type LogRecord = Record<string, unknown>;

export const captureLogs = async <T>(
  work: () => Promise<T>,
): Promise<{ result: T | undefined; error: unknown; logs: LogRecord[]; raw: string }> => {
  const chunks: string[] = [];
  const keep = (chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(keep),
    vi.spyOn(process.stderr, 'write').mockImplementation(keep),
  ];
  let result: T | undefined;
  let error: unknown;
  try {
    result = await work();
  } catch (caught) {
    error = caught;
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const raw = chunks.join('');
  const logs = raw.split('\n').flatMap((line): LogRecord[] => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogRecord];
    } catch {
      return [];
    }
  });
  return { result, error, logs, raw };
};

/** The log records at WARN or above. */
export const problems = (logs: readonly LogRecord[]): LogRecord[] =>
  logs.filter((line) => line.level === 'WARN' || line.level === 'ERROR' || line.level === 'CRITICAL');
