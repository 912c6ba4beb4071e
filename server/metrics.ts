import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, served at GET /metrics. */
export function createServerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'normx_notify_server_' });
  return {
    registry,
    connections: new Gauge({
      name: 'normx_notify_ws_connections',
      help: 'Open WebSocket connections',
      registers: [registry],
    }),
    usersOnline: new Gauge({
      name: 'normx_notify_users_online',
      help: 'Users with at least one open socket',
      registers: [registry],
    }),
    messagesPushed: new Counter({
      name: 'normx_notify_messages_pushed_total',
      help: 'Notification frames written to sockets',
      registers: [registry],
    }),
    backpressureDrops: new Counter({
      name: 'normx_notify_sockets_dropped_backpressure_total',
      help: 'Sockets closed because they fell behind',
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'normx_notify_auth_failures_total',
      help: 'Rejected tokens, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    upgradesRefused: new Counter({
      name: 'normx_notify_ws_upgrades_refused_total',
      help: 'WebSocket upgrades refused by a connection cap, by reason (catalog code)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    listenerConnected: new Gauge({
      name: 'normx_notify_listen_connected',
      help: '1 when the PostgreSQL LISTEN connection is up',
      registers: [registry],
    }),
  };
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;
