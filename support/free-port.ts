import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port free right now: the one copy for the tests (test/support/free-port.ts re-exports
 * it) and the benchmarks. A server that must restart on its port should listen on one of these
 * rather than on port 0: uSockets sets SO_REUSEADDR only on the ports it is given, and without it
 * the closed connections' TIME_WAIT keeps the port from being reused for a minute.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
