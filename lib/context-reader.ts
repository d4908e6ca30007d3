/**
 * Typed accessors over raw configuration values of the repository's app: CDK context (from
 * `cdk.json` or `-c key=value`, where every value is a string) over a stage file (JSON). They
 * parse; the construct checks what the values mean.
 */

/** Thrown when a configuration value is missing or unusable; names the key. */
export class ConfigError extends Error {
  /** The context key. */
  readonly key: string;

  constructor(key: string, problem: string) {
    super(`Invalid context value "${key}": ${problem}. See docs/deployment.md.`);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** Anything that can answer a context lookup (an App's or Stack's `node`). */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

/** Typed, parsing accessors over raw values; `undefined` for a key that is absent or empty. */
export class ContextReader {
  constructor(private readonly source: ContextSource) {}

  private raw(key: string): unknown {
    const value = this.source.tryGetContext(key);
    return value === null || value === '' ? undefined : value;
  }

  /** A non-empty string. */
  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new ConfigError(key, 'expected a string');
    return value.trim() === '' ? undefined : value.trim();
  }

  /** A boolean given as a JSON boolean or as the string `true`/`false` (from `-c`). */
  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new ConfigError(key, 'expected true or false');
  }

  /** A whole number, 0 or more, given as a JSON number or a numeric string. */
  count(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < 0) throw new ConfigError(key, 'expected an integer, 0 or more');
    return parsed;
  }

  /** One of `choices`, compared in upper case when `ignoreCase`. */
  choice<T extends string>(key: string, choices: readonly T[], ignoreCase = false): T | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    const value = ignoreCase ? raw.toUpperCase() : raw;
    const match = choices.find((candidate) => candidate === value);
    if (match === undefined) throw new ConfigError(key, `expected one of ${choices.join(', ')}`);
    return match;
  }

  /** A Secrets Manager secret name (an ARN goes in the `…Arn` key). */
  secretName(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(value) || value.startsWith('arn:')) {
      throw new ConfigError(key, 'expected a secret name such as galaxy/prod/upstash-token');
    }
    return value;
  }

  /** An ARN of the given service (`secretsmanager`, `kms`, `sns`). */
  arn(key: string, service: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+$`).test(value)) {
      throw new ConfigError(key, `expected an ARN of ${service} (arn:aws:${service}:<region>:<account>:…)`);
    }
    return value;
  }

  /** A DynamoDB table name. */
  tableName(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) throw new ConfigError(key, 'expected a DynamoDB table name');
    return value;
  }
}
