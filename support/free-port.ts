import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port free right now: the one copy for the tests (test/support/free-port.ts re-exports
 * it) and the benchmarks. A server that must restart on its port should listen on one of these
 * rather than on port 0: uSockets sets SO_REUSEADDR only on the ports it is given, and without it
 * the closed connections' TIME_WAIT keeps the port from being reused for a minute.
 *
 * Drawn at random below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range),
 * not from it: between this probe and the server's own bind, any outgoing connection of any
 * process (the tests run two files at a time, each with its clients of Temporal and PostgreSQL)
 * may be given an ephemeral port, never one below the range. Two callers drawing the same port is
 * left to chance (1 in ~12,000 per pair); a port something already holds fails the probe and
 * another is drawn.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralStart();
  if (below !== undefined && below > PRIVATE_FLOOR + 1000) {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const port = PRIVATE_FLOOR + Math.floor(Math.random() * (below - PRIVATE_FLOOR));
      // A port handed out before may not be bound yet (ports drawn one after the other, then
      // listened on): never the same twice in one process.
      if (handedOut.has(port)) continue;
      if (await bindable(port)) return handOut(port);
    }
  }
  // No room below the range (not Linux, or a range starting low) or nothing free in it: the
  // kernel's choice, with the race this avoids otherwise.
  for (;;) {
    const port = await probe(0);
    if (!handedOut.has(port)) return handOut(port);
  }
}

const handedOut = new Set<number>();
const handOut = (port: number) => {
  handedOut.add(port);
  return port;
};

/** The lowest port drawn: above the usual fixed services' ports (PostgreSQL 5432, Temporal 7233, UIs 8xxx). */
const PRIVATE_FLOOR = 20_000;

function ephemeralStart(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

const bindable = (port: number): Promise<boolean> =>
  probe(port).then(
    () => true,
    () => false,
  );

function probe(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}
