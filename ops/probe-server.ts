import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../config/logger.js';

/** What a probe route answers. */
export interface ProbeReply {
  status: number;
  body: string;
  contentType: string;
}

/** Each path (e.g. `/healthz`, `/metrics`) and what it answers to GET and HEAD. */
export type ProbeRoutes = Readonly<Record<string, () => Promise<ProbeReply>>>;

export interface ProbeServer {
  port: number;
  close(): Promise<void>;
}

const json = (status: number, body: unknown): ProbeReply => ({
  status,
  body: JSON.stringify(body),
  contentType: 'application/json',
});

/**
 * The internal port of a process (node:http): health for probes, metrics for Prometheus, and
 * nothing a browser needs, so that the public port and the proxy in front of it never expose
 * them (Centrifugo's internal port). GET and HEAD only; any other path is 404; a route that
 * throws answers 500 and is logged with its stack, and the server goes on.
 */
export async function startProbeServer(options: {
  host: string;
  port: number;
  routes: ProbeRoutes;
  logger: Logger;
}): Promise<ProbeServer> {
  const { routes, logger } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const reply = ({ status, body, contentType }: ProbeReply): void => {
      response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(body); // node:http sends no body to a HEAD request
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply(json(405, { error: 'method not allowed' }));
    }
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return reply(json(404, { error: 'not found' }));
    route().then(reply, (error: unknown) => {
      logger.error({ err: error, path }, 'Probe request failed');
      if (!response.headersSent) reply(json(500, { error: 'internal error' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
