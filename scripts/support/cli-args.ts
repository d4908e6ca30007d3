import { Command, InvalidArgumentError } from 'commander';

/**
 * A commander program for an npm script: `--help` prints the usage and exits 0; a bad flag or
 * value is answered by one line naming it, then a hint to `--help`, and exit 2 (a usage error,
 * as the operator CLI uses it) rather than a stack trace.
 */
export const scriptProgram = (name: string, description: string): Command =>
  new Command(name)
    .description(description)
    .allowExcessArguments(false)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

/** An option parser for a whole number of at least `min`, whose error names the limit. */
export const wholeNumber =
  (min: number) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    }
    return Number(value);
  };

/** An option parser for a positive number (fractions allowed). */
export const positiveNumber = (value: string): number => {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('must be a number above 0');
  }
  return parsed;
};
