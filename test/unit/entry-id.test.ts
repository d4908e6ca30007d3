import { describe, expect, it } from 'vitest';
import { compareEntryIds, entryAgeMs, parseEntryId } from '../../functions/runtime-job-results/domain/entry-id.js';

describe('stream entry ids', () => {
  it.each([
    ['999-0', '1000-0', -1],
    ['5-9', '5-10', -1],
    ['1000-10', '1000-9', 1],
    ['7-7', '7-7', 0],
    ['18446744073709551615-0', '18446744073709551614-18446744073709551615', 1],
  ])('compares %s with %s numerically', (a, b, sign) => {
    expect(Math.sign(compareEntryIds(a, b))).toBe(sign);
  });

  it('sorts ids that sort differently as strings', () => {
    const ids = ['1000-10', '999-0', '1000-9', '1000-0'];
    expect([...ids].sort(compareEntryIds)).toEqual(['999-0', '1000-0', '1000-9', '1000-10']);
  });

  it.each(['', '1', '1-', '-1', 'a-1', '1-2-3', '18446744073709551616-0', ' 1-0'])('rejects %j', (text) => {
    expect(parseEntryId(text)).toBeUndefined();
  });

  it('measures the age of an entry from its time part', () => {
    expect(entryAgeMs('1000-5', 4000)).toBe(3000);
    expect(entryAgeMs('5000-0', 4000)).toBe(0);
  });
});
