// The processes' /metrics, read by the fault rig: a server's LISTEN gauge, a worker counter.
import type { Stack } from '../../bench/stack.js';

/** The server's `normx_notify_listen_connected` gauge (its /metrics reads no database). */
export async function listenConnected(serverUrl: string): Promise<boolean | undefined> {
  try {
    const text = await (await fetch(`${serverUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const value = /^normx_notify_listen_connected (\S+)/m.exec(text)?.[1];
    return value === undefined ? undefined : value === '1';
  } catch {
    return undefined;
  }
}

/** Sums of a counter over the label sets, per worker (from each worker's /metrics). */
export async function workerCounter(stack: Stack, name: string): Promise<number> {
  let total = 0;
  for (const worker of stack.workers) {
    try {
      const text = await (
        await fetch(`${worker.healthUrl}/metrics`, { signal: AbortSignal.timeout(3000) })
      ).text();
      for (const line of text.split('\n')) {
        const match = /^(\S+?)(\{.*\})?\s+(\S+)/.exec(line);
        if (match && match[1] === name) total += Number(match[3]);
      }
    } catch {
      // a worker down or paused: not counted
    }
  }
  return total;
}
