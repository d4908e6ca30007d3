/** Cutting text that came from elsewhere (an entry, an upstream answer) to a byte budget. */

/** Longest upstream text (`error_code`, `error_message`, an error) carried into a log line, in bytes. */
const MAX_TEXT_BYTES = 1024;

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character, marking the cut.
 * Used for every upstream text that reaches a log line.
 */
export const truncateText = (text: string, maxBytes: number = MAX_TEXT_BYTES): string => {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const marker = '…[truncated]';
  const budget = Math.max(0, maxBytes - Buffer.byteLength(marker, 'utf8'));
  let cut = '';
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (used + size > budget) break;
    cut += char;
    used += size;
  }
  return cut + marker;
};
