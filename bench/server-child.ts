import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ignoreBrokenOutput,
  notificationJson,
  userIdOf,
  wallClock,
  type ServerCommand,
  type ServerEvent,
  type ServerStats,
} from './shared.js';

/** What each server under test provides to the common driver. */
export interface BenchServer {
  port: number;
  /** Pushes one notification, serialized once (`json`), to every socket of `userId`. */
  publish(userId: string, id: string, json: string): void;
  usersOnline(): number;
  stop(): Promise<void>;
}

const send = (event: ServerEvent): void => {
  process.send?.(event);
};

function peakRssBytes(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Runs a server child: starts the server, reports `ready`, then obeys the parent's commands
 * over IPC. The feed is the same for every server: `count` notifications, notification `k` to
 * user `k % users` with increasing ids per user, each serialized once, published `batch` at a
 * time between event-loop turns.
 */
export async function runServerChild(start: () => Promise<BenchServer>): Promise<void> {
  ignoreBrokenOutput();
  let server: BenchServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await server?.stop();
    })();
    return stopping;
  };
  // The parent is gone (crash, Ctrl-C): release what the server holds (the database) and leave.
  process.on('disconnect', () => {
    void stop().finally(() => process.exit(0));
  });
  process.on('SIGTERM', () => {
    void stop().finally(() => process.exit(0));
  });
  // Ctrl-C reaches the whole process group: the parent decides (it sends SIGTERM).
  process.on('SIGINT', () => undefined);

  try {
    server = await start();
  } catch (error) {
    send({ ev: 'failed', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  }
  const ids: number[] = [];
  let cpuAtPublish = process.cpuUsage();
  let profiler: Session | undefined;

  const publish = async (users: number, count: number, batch: number): Promise<void> => {
    const userIds = Array.from({ length: users }, (_, index) => userIdOf(index));
    cpuAtPublish = process.cpuUsage();
    const firstAt = wallClock();
    for (let k = 0; k < count; k++) {
      const user = k % users;
      const id = (ids[user] ?? 0) + 1;
      ids[user] = id;
      const userId = userIds[user]!;
      server!.publish(userId, String(id), notificationJson(userId, id, wallClock()));
      if ((k + 1) % batch === 0) await nextTurn();
    }
    send({ ev: 'published', firstAt, lastAt: wallClock() });
  };

  const stats = (): ServerStats => {
    const cpu = process.cpuUsage(cpuAtPublish);
    const memory = process.memoryUsage();
    return {
      rssBytes: memory.rss,
      peakRssBytes: peakRssBytes(),
      heapUsedBytes: memory.heapUsed,
      cpuMicrosSincePublish: cpu.user + cpu.system,
      systemCpuMicrosSincePublish: cpu.system,
      usersOnline: server!.usersOnline(),
    };
  };

  process.on('message', (message: ServerCommand) => {
    const handle = async (): Promise<void> => {
      switch (message.cmd) {
        case 'publish':
          return publish(message.users, message.count, message.batch);
        case 'stats':
          return send({ ev: 'stats', ...stats() });
        case 'profile':
          if (message.action === 'start') {
            profiler = new Session();
            profiler.connect();
            await profiler.post('Profiler.enable');
            await profiler.post('Profiler.start');
            return send({ ev: 'profiling' });
          }
          if (profiler) {
            const { profile } = await profiler.post('Profiler.stop');
            writeFileSync(message.file, JSON.stringify(profile));
            profiler.disconnect();
            profiler = undefined;
          }
          return send({ ev: 'profiled', file: message.file });
        case 'stop':
          await stop();
          send({ ev: 'stopped' });
          process.disconnect();
          return;
      }
    };
    handle().catch((error: Error) => send({ ev: 'failed', message: error.stack ?? error.message }));
  });
  send({ ev: 'ready', port: server.port });
}
