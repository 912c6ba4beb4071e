import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded default when DATABASE_URL is unset: PGlite (PostgreSQL in WebAssembly) served on
 * loopback, so the same driver and migrations serve both. For a developer's machine, not production.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number }): Promise<{
  url: string;
  stop: () => Promise<void>;
}> {
  await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port });
  await server.start();
  return {
    url: `postgresql://postgres@127.0.0.1:${options.port}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
