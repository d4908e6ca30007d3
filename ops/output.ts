/**
 * Where the CLI's commands write: the result on stdout (a readable table, or JSON with
 * `--json`), notices and progress bars on stderr, so `--json` output stays parseable.
 */
import { Presets, SingleBar } from 'cli-progress';

/** Anything text can be written to: `process.stdout`, or an array-backed sink in tests. */
export interface TextSink {
  write(text: string): unknown;
}

export interface Progress {
  increment(by?: number): void;
  stop(): void;
}

export interface Output {
  /** True with `--json`: results are printed as one JSON document. */
  readonly json: boolean;
  /** Prints the command's result: `data` as JSON with `--json`, else `text()`. */
  result(data: unknown, text: () => string): void;
  /** A warning or note for the operator, on stderr. */
  notice(text: string): void;
  /** A progress bar on stderr when progress bars are on; otherwise it does nothing. */
  progress(total: number, label: string): Progress;
}

export interface StreamOutputOptions {
  readonly json: boolean;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Stream for progress bars (a TTY's stderr); none turns them off. */
  readonly progressStream?: NodeJS.WritableStream;
}

const silentProgress: Progress = { increment: () => undefined, stop: () => undefined };

/** The {@link Output} of the CLI: two text sinks and, on a terminal, `cli-progress` bars. */
export class StreamOutput implements Output {
  readonly json: boolean;
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;
  readonly #progressStream: NodeJS.WritableStream | undefined;

  constructor(options: StreamOutputOptions) {
    this.json = options.json;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.#progressStream = options.progressStream;
  }

  result(data: unknown, text: () => string): void {
    this.#stdout.write(this.json ? `${JSON.stringify(data, null, 2)}\n` : `${text().replace(/\n+$/, '')}\n`);
  }

  notice(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  progress(total: number, label: string): Progress {
    if (this.#progressStream === undefined || total <= 0) return silentProgress;
    const bar = new SingleBar(
      {
        stream: this.#progressStream,
        format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`,
        hideCursor: true,
        // Written only when the stream is not a terminal: tests use that to see the bar.
        noTTYOutput: true,
        notTTYSchedule: 1_000,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return { increment: (by = 1) => bar.increment(by), stop: () => bar.stop() };
  }
}

/** Aligned `label  value` lines; undefined values are left out. */
export const fieldsText = (rows: readonly (readonly [string, string | number | undefined])[]): string => {
  const shown = rows.filter((row): row is readonly [string, string | number] => row[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
};

/** A plain-text table with a header row; `(none)` when there are no rows. */
export const tableText = <R extends object>(
  columns: readonly (readonly [key: keyof R & string, header: string])[],
  rows: readonly R[],
): string => {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map(([key]) => String(row[key] ?? '')));
  const widths = columns.map(([, header], i) =>
    Math.max(header.length, ...cells.map((line) => (line[i] ?? '').length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((value, i) => value.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([, header]) => header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join(
    '\n',
  );
};

/** A titled block of a text report. */
export const sectionText = (title: string, body: string): string => `${title}\n${body.replace(/^/gm, '  ')}`;

/** `1h 2m 3s` style, for ages and lease times. */
export const durationText = (ms: number): string => {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  let seconds = Math.floor(ms / 1_000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join(' ');
};

/** ISO-8601 of an epoch-ms value, or undefined for a missing one. */
export const isoOf = (ms: number | undefined): string | undefined =>
  ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();

/** `1 entry`, `3 entries`: counts in messages. */
export const countText = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;
