// What a process logged during a fault: its warnings and errors from a point of its log file on.
import { readFile, stat } from 'node:fs/promises';

/**
 * Warnings and errors a process logged from `offset` on (bytes of its log file), by message,
 * most frequent first: what it went through during a fault.
 */
export async function logSince(
  file: string,
  offset: number,
): Promise<Array<{ message: string; count: number }>> {
  let text: string;
  try {
    text = (await readFile(file)).subarray(offset).toString('utf8');
  } catch {
    return [];
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 40) continue;
      const message = `${entry.msg ?? '?'}${entry.err?.message ? `: ${entry.err.message}` : ''}`
        .replace(/\d{3,}/g, 'N')
        .slice(0, 160);
      counts.set(message, (counts.get(message) ?? 0) + 1);
    } catch {
      // not JSON
    }
  }
  return [...counts.entries()]
    .map(([message, count]) => ({ message, count }))
    .sort((a, b) => b.count - a.count);
}

/** The size of a file now (0 when absent): where logSince starts. */
export async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
