import { benchAdminUrl, envPositiveInt as envInt } from './env.js';
import { openFileLimits } from './proc.js';

/** The settings of `npm run bench:connections` (BENCH_*, see the entry's header) and what follows from them. */

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TARGET_CONNECTIONS = 50_000;
export const TARGET_RSS_BYTES = GiB;
export const TARGET_STORM_TABS = 10_000;
export const TARGET_STORM_SECONDS = 30;
/** Descriptors the server needs besides its sockets: stdio, epoll, the PostgreSQL pool and LISTEN, the inspector. */
const SERVER_FD_HEADROOM = 200;
/** Descriptors a client child needs besides its sockets. */
const CLIENT_FD_HEADROOM = 500;

export const log = (text: string): void => console.log(`[bench] ${text}`);
export const benchUserId = (user: number): string => `bench-user-${user}`;
export const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;
export const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

export const limits = openFileLimits();
export const requestedConnections = envInt('BENCH_CONNECTIONS', TARGET_CONNECTIONS);
// Node raises its soft limit to the hard one at start-up; the hard one is the server's ceiling.
export const serverCapacity = limits.hard - SERVER_FD_HEADROOM;
export const connections = Math.min(requestedConnections, serverCapacity);
export const capped = connections < requestedConnections;
export const users = Math.min(connections, envInt('BENCH_USERS', Math.max(1, Math.floor(connections / 4))));
const stormRequested = Math.min(connections, envInt('BENCH_STORM_TABS', TARGET_STORM_TABS));
export const stormNotifications = envInt('BENCH_STORM_NOTIFICATIONS', 5);
export const clientProcesses = Math.max(
  envInt('BENCH_CLIENT_PROCESSES', 4),
  Math.ceil(connections / (limits.hard - CLIENT_FD_HEADROOM)),
);
const defaultStep = Math.max(1000, Math.min(10_000, Math.round(connections / 5 / 1000) * 1000));
export const step = envInt('BENCH_STEP', defaultStep);
/** Connects in flight over all client processes: under the server's WS_MAX_OPENING_SOCKETS (4,000 by default), so that filling up is not refused. */
export const connectConcurrency = envInt('BENCH_CONNECT_CONCURRENCY', 96);
export const connectTimeoutSeconds = envInt('BENCH_CONNECT_TIMEOUT_S', 240);
export const commitConcurrency = envInt('BENCH_COMMIT_CONCURRENCY', 8);
export const deadlineSeconds = envInt('BENCH_DEADLINE_S', 570);
export const stormTimeoutSeconds = envInt('BENCH_STORM_TIMEOUT_S', 120);
export const adminUrl = benchAdminUrl();
export const outputName = process.env.BENCH_OUTPUT_NAME ?? 'connections';
/** `connect` or `storm`: a CPU profile of the server during that phase, saved to the temp folder and summarized. */
export const profilePhase = process.env.BENCH_PROFILE ?? '';
if (!['', 'connect', 'storm', 'storm-heap'].includes(profilePhase))
  throw new Error('BENCH_PROFILE must be connect or storm');

/** Connections of user `u` when connection `i` belongs to user `i % users`. */
export const tabsOfUser = (user: number): number => Math.floor((connections - 1 - user) / users) + 1;
/** The storm takes every tab of users 0…stormUsers−1: the fewest users with at least the requested tabs. */
let stormUserCount = 0;
let stormTabCount = 0;
while (stormTabCount < stormRequested && stormUserCount < users)
  stormTabCount += tabsOfUser(stormUserCount++);
export const stormUsers = stormUserCount;
export const stormTabs = stormTabCount;
/** Source addresses of this run: 127.<octet>.x.y for the first connections, 127.<octet+1>.x.y for the reconnects. */
export const addressOctet = 2 + (process.pid % 120) * 2;

export const steps: number[] = [];
for (let count = step; count < connections; count += step) steps.push(count);
steps.push(connections);
