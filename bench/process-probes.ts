import { readdirSync, readFileSync } from 'node:fs';
import { poll } from '../support/wait.js';

/**
 * What the process handles (bench/processes.ts) ask of the system: whether a pid lives, which
 * child has a command line, whether a health URL answers, and a signal that ignores a process
 * already gone. Linux only (/proc), as the benches and the fault suite.
 */

/** Whether `pid` is a live process (not a zombie). */
export function existsPid(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** The pid of our child process whose command line contains every one of `parts`. */
export function childPid(parts: string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (parts.every((part) => cmdline.includes(part))) return Number(entry);
    } catch {
      // The process went away while we looked.
    }
  }
  return undefined;
}

/** Polls `url` until it answers 2xx; fails if `alive()` turns false or at the deadline. */
export async function waitHealthy(
  url: string,
  deadline: number,
  what: string,
  alive: () => string | undefined = () => undefined,
): Promise<void> {
  let last: string;
  await poll(
    async () => {
      const dead = alive();
      if (dead) throw new Error(`${what} ${dead}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
        last = `${response.status} ${await response.text()}`;
        if (response.ok) return true;
      } catch (error) {
        last = String(error);
      }
      return undefined;
    },
    {
      deadline,
      intervalMs: 250,
      probeErrors: 'throw',
      onTimeout: () => {
        throw new Error(`${what} not ready at ${url}: ${last}`);
      },
    },
  );
}

/** Sends `name` to `pid`, if it is still there. */
export const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch {
    // gone
  }
};
