import { describe, expect, it } from 'vitest';
import { decodeJobResult, limits } from '../../functions/runtime-job-results/domain/job-result.js';
import { truncateText } from '../../functions/runtime-job-results/domain/text.js';

const decode = (fields: [string, string][]) => decodeJobResult({ id: '1-0', fields });
const ok = { outcome: 'success', container_id: 'c1', engine_endpoint: 'https://engine.example:8443/x' };
const withFields = (extra: Record<string, string>): [string, string][] =>
  Object.entries({ game_id: 'g1', ...ok, ...extra });

describe('decoding a result entry', () => {
  it('reads a success entry as strings', () => {
    expect(decode(withFields({}))).toEqual({
      ok: true,
      result: { outcome: 'success', gameId: 'g1', containerId: 'c1', engineEndpoint: 'https://engine.example:8443/x' },
    });
  });

  it('keeps values that look like numbers or JSON exactly as written', () => {
    const decoded = decode(withFields({ game_id: '0123', container_id: '{}' }));
    expect(decoded).toMatchObject({ ok: true, result: { gameId: '0123', containerId: '{}' } });
  });

  it('lets the last value of a repeated field win', () => {
    const decoded = decode([...withFields({}), ['game_id', 'g2']]);
    expect(decoded).toMatchObject({ ok: true, result: { gameId: 'g2' } });
  });

  it('ignores unknown fields, including prototype names', () => {
    const decoded = decode([...withFields({}), ['__proto__', 'x'], ['constructor', 'y']]);
    expect(decoded.ok).toBe(true);
  });

  it.each([
    ['', 'missing_game_id'],
    ['   ', 'missing_game_id'],
    ['-leading-dash', 'invalid_game_id'],
    ['has space', 'invalid_game_id'],
    ['a'.repeat(129), 'invalid_game_id'],
    ['ünïcode', 'invalid_game_id'],
  ])('rejects game_id %j as %s', (gameId, rule) => {
    expect(decode(withFields({ game_id: gameId }))).toMatchObject({ ok: false, invalid: { rule } });
  });

  it.each(['a', 'A.b_c:d-e', 'a'.repeat(128), '0'])('accepts game_id %j', (gameId) => {
    expect(decode(withFields({ game_id: gameId })).ok).toBe(true);
  });

  it.each([
    [{ outcome: '' }, 'unsupported_outcome'],
    [{ outcome: 'SUCCESS' }, 'unsupported_outcome'],
    [{ container_id: ' ' }, 'missing_container_id'],
    [{ container_id: 'c'.repeat(257) }, 'container_id_too_long'],
    [{ engine_endpoint: '' }, 'missing_engine_endpoint'],
    [{ engine_endpoint: 'engine:8080' }, 'invalid_engine_endpoint'],
    [{ engine_endpoint: 'ftp://engine' }, 'invalid_engine_endpoint'],
    [{ engine_endpoint: '/relative' }, 'invalid_engine_endpoint'],
    [{ engine_endpoint: `http://e/${'x'.repeat(2048)}` }, 'engine_endpoint_too_long'],
  ])('rejects %o as %s', (extra, rule) => {
    expect(decode(withFields(extra))).toMatchObject({ ok: false, invalid: { rule }, gameId: 'g1' });
  });

  it('accepts the longest allowed container id and endpoint', () => {
    const endpoint = `http://e/${'x'.repeat(2048 - 'http://e/'.length)}`;
    expect(decode(withFields({ container_id: 'c'.repeat(256), engine_endpoint: endpoint })).ok).toBe(true);
  });

  it('does not require success fields on a failure', () => {
    expect(
      decode([
        ['game_id', 'g1'],
        ['outcome', 'failure'],
      ]),
    ).toEqual({
      ok: true,
      result: { outcome: 'failure', gameId: 'g1', errorCode: '', errorMessage: '' },
    });
  });
});

describe('entries over the size limits', () => {
  it('rejects an entry larger than 64 KiB as entry_too_large, naming the limit', () => {
    const decoded = decode(withFields({ error_message: 'x'.repeat(limits.entryBytes) }));
    expect(decoded).toMatchObject({
      ok: false,
      gameId: 'g1',
      invalid: { rule: 'entry_too_large', detail: expect.stringContaining(`more than ${limits.entryBytes}`) },
    });
  });

  it('rejects an entry with more than 64 fields as too_many_fields', () => {
    const extra = Array.from({ length: limits.entryFields }, (_, i): [string, string] => [`f${i}`, 'v']);
    const decoded = decode([...withFields({}), ...extra]);
    expect(decoded).toMatchObject({ ok: false, invalid: { rule: 'too_many_fields' } });
  });

  it('rejects an entry the reader withheld by the size it measured', () => {
    const decoded = decodeJobResult({
      id: '1-0',
      fields: [['game_id', 'g1']],
      withheld: { bytes: 11_000_000, fields: 3 },
    });
    expect(decoded).toMatchObject({ ok: false, gameId: 'g1', invalid: { rule: 'entry_too_large' } });
  });

  it('accepts an entry right at the limits', () => {
    const base = withFields({});
    const used = base.reduce((sum, [f, v]) => sum + f.length + v.length, 0);
    const decoded = decode([...base, ['error_message', 'x'.repeat(limits.entryBytes - used - 'error_message'.length)]]);
    expect(decoded.ok).toBe(true);
  });
});

describe('truncating upstream text', () => {
  it('keeps short text as it is', () => {
    expect(truncateText('short')).toBe('short');
  });

  it('cuts at the byte limit without splitting a character', () => {
    const cut = truncateText('é'.repeat(2000), 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut.endsWith('…[truncated]')).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });
});
