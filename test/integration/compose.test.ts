import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BULK_MAX_BODY_BYTES } from '../../domain/limits.js';
import { searchAttributeCliPairs } from '../../workflows/search-attributes.js';

/**
 * The Docker Compose deployment (temporal-docker/), validated without a Docker engine: the
 * Compose CLI's own `config` (Debian's docker-compose 1.29, installed by scripts/setup.sh, or
 * the compose plugin when present) checks the file against the Compose schema and resolves it
 * with temporal-docker/.env.example; then the facts ops rely on are asserted on the result.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const composeDir = `${root}temporal-docker`;

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  restart?: string;
  ports?: unknown[];
  container_name?: string;
  volumes?: unknown[];
}
interface ComposeConfig {
  services: Record<string, Service>;
}

/** Runs `config` with a clean environment, so only .env.example's values are used. */
async function composeConfig(args: string[]): Promise<string> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  const base = ['-f', 'docker-compose.yml', '--env-file', '.env.example'];
  const plugin = await run('docker', ['compose', 'version'], { env }).then(
    () => true,
    () => false,
  );
  if (plugin) {
    const { stdout } = await run('docker', ['compose', ...base, 'config', ...args], { cwd: composeDir, env });
    return stdout;
  }
  const { stdout } = await run('docker-compose', [...base, 'config', ...args], {
    cwd: composeDir,
    env,
  }).catch((error: NodeJS.ErrnoException & { stderr?: string }) => {
    if (error.code === 'ENOENT') {
      throw new Error('Neither `docker compose` nor `docker-compose` is installed: run scripts/setup.sh');
    }
    throw new Error(`docker-compose config failed: ${error.stderr ?? error.message}`);
  });
  return stdout;
}

/** The resolved file as JSON: YAML from docker-compose 1.29 read by PyYAML (its own dependency). */
async function resolvedConfig(): Promise<ComposeConfig> {
  const yaml = await composeConfig([]);
  if (yaml.trimStart().startsWith('{')) return JSON.parse(yaml) as ComposeConfig;
  const child = execFile('python3', [
    '-c',
    'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)',
  ]);
  const output = new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`python3 exited ${code}`))));
  });
  child.stdin!.end(yaml);
  return JSON.parse(await output) as ComposeConfig;
}

let config: ComposeConfig;
let services: Record<string, Service>;

before(async () => {
  config = await resolvedConfig();
  services = config.services;
});

const oneShot = (service: Service): boolean => (service.restart ?? '').startsWith('on-failure');
const commandOf = (service: Service): string =>
  [service.entrypoint, service.command].flat().filter(Boolean).join(' ');
const healthTest = (service: Service): string => [service.healthcheck?.test].flat().join(' ');

describe('temporal-docker/docker-compose.yml', () => {
  it('is a valid Compose file (the Compose CLI validates it against its schema)', async () => {
    await composeConfig(['-q']);
  });

  it('has Temporal with PostgreSQL, its UI and admin tools, the setup jobs, the worker and the server', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'gateway',
      'migrate',
      'postgresql',
      'server',
      'temporal',
      'temporal-admin-tools',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    const temporal = services.temporal!;
    assert.equal(temporal.environment?.DB, 'postgres12', 'PostgreSQL persistence');
    assert.equal(temporal.environment?.POSTGRES_SEEDS, 'postgresql');
    assert.equal(temporal.environment?.ENABLE_ES, undefined, 'SQL visibility, no Elasticsearch');
    assert.match(commandOf(services['temporal-schema']!), /setup-postgres\.sh/);
    assert.match(commandOf(services['temporal-setup']!), /setup-temporal\.sh/);
    assert.match(commandOf(services.worker!), /worker\/main\.ts/);
    assert.match(commandOf(services.server!), /server\/main\.ts/);
    assert.match(commandOf(services.migrate!), /scripts\/migrate\.ts/);
  });

  it('pins every image: an explicit version, never latest', () => {
    for (const [name, service] of Object.entries(services)) {
      const image = service.image ?? '';
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      assert.ok(tag, `${name}: image ${image} has a tag`);
      assert.notEqual(tag, 'latest', `${name}: ${image} is not latest`);
      assert.match(tag, /^\d+\.\d+(\.\d+)?(-[\w.]+)?$/, `${name}: ${image} is pinned to a version`);
    }
    // The app's services are built from the repository's Dockerfile, under a versioned tag.
    for (const name of ['worker', 'server', 'migrate']) {
      assert.equal(services[name]!.build?.dockerfile, 'Dockerfile');
      assert.equal(services[name]!.image, services.worker!.image);
    }
  });

  it('has a healthcheck on every long-running service; one-shot jobs restart only on failure', () => {
    const longRunning = Object.entries(services).filter(([, service]) => !oneShot(service));
    assert.deepEqual(longRunning.map(([name]) => name).sort(), [
      'gateway',
      'postgresql',
      'server',
      'temporal',
      'temporal-admin-tools',
      'temporal-ui',
      'worker',
    ]);
    for (const [name, service] of longRunning) {
      assert.ok(healthTest(service) && !service.healthcheck?.disable, `${name} has a healthcheck`);
      assert.equal(service.restart, 'unless-stopped', `${name} is restarted`);
    }
    assert.match(healthTest(services.worker!), /127\.0\.0\.1:8001\/healthz/);
    assert.equal(services.worker!.environment?.WORKER_INTERNAL_PORT, '8001');
    assert.match(healthTest(services.server!), /127\.0\.0\.1:8002\/healthz/);
    assert.equal(services.server!.environment?.SERVER_PORT, '8000');
    assert.equal(services.server!.environment?.SERVER_INTERNAL_PORT, '8002');
    assert.match(healthTest(services.postgresql!), /pg_isready/);
  });

  it('starts the worker and the server once PostgreSQL and Temporal are healthy and the jobs are done', () => {
    for (const name of ['worker', 'server']) {
      assert.deepEqual(services[name]!.depends_on, {
        postgresql: { condition: 'service_healthy' },
        temporal: { condition: 'service_healthy' },
        'temporal-setup': { condition: 'service_completed_successfully' },
        migrate: { condition: 'service_completed_successfully' },
      });
    }
    assert.deepEqual(services.temporal!.depends_on, {
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    assert.deepEqual(services['temporal-setup']!.depends_on, { temporal: { condition: 'service_healthy' } });
  });

  it('lets workers and servers scale: no fixed container name or host port; the gateway publishes', () => {
    for (const name of ['worker', 'server']) {
      assert.equal(services[name]!.container_name, undefined, `${name} has no container_name`);
      assert.equal(services[name]!.ports, undefined, `${name} publishes no host port`);
    }
    assert.equal(services.gateway!.ports?.length, 1);
    for (const name of ['worker', 'server', 'migrate']) {
      const env = services[name]!.environment ?? {};
      assert.match(env.DATABASE_URL ?? '', /^postgresql:\/\/[^@]+@postgresql:5432\/normx_notify$/);
      assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
    }
  });

  it('registers exactly the search attributes the workflow upserts', async () => {
    const script = await readFile(`${composeDir}/scripts/setup-temporal.sh`, 'utf8');
    const registered = [...script.matchAll(/--name (\w+) --type (\w+)/g)].map(
      ([, name, type]) => `${name}=${type}`,
    );
    assert.deepEqual(registered, searchAttributeCliPairs());
  });

  it('lets the gateway pass a bulk onboarding body up to the server own limit, and no more elsewhere', async () => {
    const conf = await readFile(`${composeDir}/nginx/nginx.conf`, 'utf8');
    const mebibytes = (size: string) => Number(size.slice(0, -1)) * (size.endsWith('m') ? 1024 * 1024 : 1024);
    const bulk = /location = \/api\/v1\/dossiers\/bulk \{[^}]*client_max_body_size (\d+[km]);/.exec(conf);
    assert.ok(bulk, 'the bulk route has its own body limit');
    assert.ok(mebibytes(bulk[1]!) >= BULK_MAX_BODY_BYTES, `${bulk[1]} < BULK_MAX_BODY_BYTES`);
    const server = /server \{\s*listen 8000;\s*client_max_body_size (\d+[km]);/.exec(conf);
    assert.equal(server?.[1], '64k');
  });

  it('has shell scripts that parse', async () => {
    for (const script of ['setup-postgres.sh', 'setup-temporal.sh']) {
      await run('sh', ['-n', `${composeDir}/scripts/${script}`]);
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  it('builds in stages from a pinned node:20 bookworm-slim, copying only files that exist', async () => {
    const dockerfile = await readFile(`${root}Dockerfile`, 'utf8');
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    assert.match(base ?? '', /^node:20\.\d+\.\d+-bookworm-slim$/);
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)$/gm)].map(([, image, stage]) => [
      image,
      stage,
    ]);
    assert.deepEqual(stages, [
      ['${NODE_IMAGE}', 'deps'],
      ['${NODE_IMAGE}', 'web'],
      ['${NODE_IMAGE}', 'runtime'],
    ]);
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
      for (const source of sources!.split(' ').filter((word) => word !== '.')) {
        assert.ok(existsSync(`${root}${source}`), `COPY source ${source} exists`);
      }
    }
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^CMD \["node", "--import", "tsx", "worker\/main\.ts"\]$/m);
  });

  it('keeps secrets, local data and dependencies out of the build context', async () => {
    const ignored = (await readFile(`${root}.dockerignore`, 'utf8')).split('\n');
    for (const entry of ['**/node_modules', '.git', '.env', '.data', '.tools']) {
      assert.ok(ignored.includes(entry), `.dockerignore has ${entry}`);
    }
  });
});
