import {
  addressOctet,
  clientProcesses,
  commitConcurrency,
  connectConcurrency,
  connections,
  stormNotifications,
  stormTabs,
  stormTimeoutSeconds,
  stormUsers,
  users,
} from './connections-params.js';

/** The method section of docs/bench/connections.md, with this run's settings; `capsText`: the server's connection caps. */
export const connectionsMethod = (capsText: string): string => `
One delivery server process, \`node --import tsx --inspect=127.0.0.1:<port> server/main.ts\` (the production entry
point, unchanged), on a fresh PostgreSQL database migrated with \`migrate(openOrm(url))\`, with LISTEN on and
Temporal unreachable (the server connects to it lazily). ${clientProcesses} client processes (\`bench/connections-client.ts\`,
one \`ws\` client per tab, as a browser tab holds one socket) connect from their own loopback source addresses
(each user is one browser: its tabs share an address \`127.${addressOctet}.x.y\` of their own, so the server's per-address
upgrade limit sees what it would see in production, and no address runs short of ephemeral ports; the reconnects
come from \`127.${addressOctet + 1}.x.y\`, so they do not meet the first connections' TIME_WAIT ports). While filling up,
${connectConcurrency} connects are in flight over all client processes, under the server's cap on sessions opening at once. The
server runs with its default connection caps (${capsText}).
Connection \`i\` belongs to user \`i mod ${users}\`; each user has an HS256 token (jose, \`sub\` = user id, 2 h expiry) sent in
\`Sec-WebSocket-Protocol: normx-notify, <token>\`. A connection counts as authenticated and subscribed when its first
frame, \`unread_count\`, arrives: the server sends it after verifying the token, subscribing the socket to the user's
stream and reading the count. The server's own \`normx_notify_ws_connections\` and \`normx_notify_users_online\` gauges
(\`/metrics\`) must agree.

**Memory.** After each step of connections the bench forces a full GC in the server over the inspector protocol
(\`HeapProfiler.collectGarbage\`), reads \`process.memoryUsage()\` the same way, then VmRSS and VmHWM from
\`/proc/<pid>/status\`. "Outside the V8 heap" is VmRSS − heap total: uWebSockets.js's native state, malloc, code,
the tsx loader. The kernel's socket structures are not part of any RSS; the slab line of \`/proc/meminfo\` shows
them for the whole machine (server and clients). Per-connection figures are least-squares slopes over the steps.

**Push.** One notification per user, stored by \`storeNotification\` (\`activities/notification-store.ts\`, the
activities' insert + \`pg_notify\` statement) with ${commitConcurrency} in flight; \`data.sentAt\` is the wall clock of the store
call, so the latency is store call → commit → NOTIFY → server → tab. Every tab must get it exactly once.

**Reconnect storm.** Every tab of the first ${stormUsers.toLocaleString('en-US')} users (${stormTabs.toLocaleString('en-US')} tabs), each holding the id of the
notification it got, is dropped at once (socket destroyed, no close handshake, like a lost network); the other
${(connections - stormTabs).toLocaleString('en-US')} stay. Once the server has seen them go, ${stormNotifications} notifications per storm user are committed
(${(stormUsers * stormNotifications).toLocaleString('en-US')} in all, not timed). Then every storm tab reconnects in the same event-loop turn of its
client process, with \`?lastId=<its last id>\`. A refused or failed attempt is tried again as the client library
(\`web/client/notify-client.ts\`) does: after a delay drawn in [c/2, c], c = 0.5 s doubling up to 30 s (a browser sees
a refused upgrade as 1006: neither its status nor its Retry-After changes the delay), until ${stormTimeoutSeconds} s have passed.
A tab is caught up when \`resumed\` arrives after exactly its user's missed ids, in order; any other notification
frame, before or up to a second after, counts as wrong. The storm time runs from the reconnect command to the
last tab caught up; the per-tab time from its first reconnect attempt to its \`resumed\`.
`;
