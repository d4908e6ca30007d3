/**
 * deployment.md's table of configuration keys lists exactly the keys the repository's app
 * reads, so a key cannot be added (or dropped) without the page saying so.
 */
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS } from '../../lib/stage-config.js';
import { readRepoFile } from './support.js';

/** The first cells of the table under "### Configuration keys". */
const documentedKeys = (): string[] => {
  const page = readRepoFile('docs/deployment.md');
  const start = page.indexOf('### Configuration keys');
  const section = page.slice(start, page.indexOf('\n### ', start + 1));
  return [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((match) => match[1] as string);
};

describe("deployment.md's configuration keys", () => {
  it('are found', () => {
    expect(documentedKeys().length).toBeGreaterThan(30);
  });

  it('are the keys the app reads, each once', () => {
    expect([...documentedKeys()].sort()).toEqual([...CONTEXT_KEYS].sort());
  });
});
