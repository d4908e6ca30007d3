/** The yes/no question before a destructive command, asked on the terminal. */
import { createInterface } from 'node:readline/promises';

/**
 * Asks on `input`/`output` and resolves true only for `y` or `yes`. Without a terminal
 * (a script, CI) nobody can answer, so it resolves false: scripts pass `--yes` instead.
 */
export const terminalConfirm =
  (input: NodeJS.ReadStream, output: NodeJS.WriteStream) =>
  async (question: string): Promise<boolean> => {
    if (input.isTTY !== true) {
      output.write(`${question} no terminal to ask on: not confirmed\n`);
      return false;
    }
    const prompt = createInterface({ input, output });
    try {
      return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
    } finally {
      prompt.close();
    }
  };
