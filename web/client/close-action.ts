import { CLOSE_CODES, type CloseAction } from './close-codes.js';

/** What the client does after its socket closed, and the error code it reports when it stops or renews. */
export type CloseDecision =
  { action: 'reconnect' } | { action: Exclude<CloseAction, 'reconnect'>; code: string };

const table: Partial<Record<number, { action: CloseAction; code: string }>> = CLOSE_CODES;

/**
 * The server's answer for `closeCode` (server/errors.ts, through the generated close-codes.ts); a
 * code the server does not close with (1006: the connection was lost; 1000) is resumed.
 */
export function closeActionOf(closeCode: number): CloseDecision {
  const entry = table[closeCode];
  if (!entry || entry.action === 'reconnect') return { action: 'reconnect' };
  return { action: entry.action, code: entry.code };
}
