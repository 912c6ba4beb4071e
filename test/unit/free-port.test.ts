import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../../support/free-port.js';

/**
 * support/free-port.ts: the ports the tests and benches listen on come from below the kernel's
 * ephemeral range, which outgoing connections draw from between the probe and the real bind.
 */

const ephemeralStart = Number(
  readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
);

// A machine whose ephemeral range starts low leaves no room below it: the kernel chooses there.
const roomBelow = ephemeralStart > 21_000;

test('draws ports below the ephemeral range, each one bindable on loopback', async () => {
  for (let i = 0; i < 20; i += 1) {
    const port = await freePort();
    if (roomBelow)
      assert.ok(port >= 20_000 && port < ephemeralStart, `port ${port} outside [20000, ${ephemeralStart})`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  }
});

test('never hands out a port this process is listening on', async () => {
  // Hold every third port of the drawn range (2,000 of them), then draw: a held one must fail the probe.
  const held = new Set<number>();
  const servers = [];
  for (let port = 20_000; port < 32_000 && held.size < 2000; port += 3) {
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      held.add(port);
      servers.push(server);
    }
  }
  try {
    for (let i = 0; i < 200; i += 1) {
      const port = await freePort();
      assert.ok(!held.has(port), `port ${port} is held`);
    }
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
});

test('never hands out the same port twice in one process, drawn one after the other', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 2000; i += 1) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length);
});
