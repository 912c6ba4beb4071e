import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { httpRequest, startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { engineServer, setUpEngineServer } from '../support/server-rest.js';
import { waitFor } from '../support/wait.js';

/**
 * The REST API of a real server, with and without Temporal: health (degraded without Temporal,
 * ok with a real dev server, on the internal port only), and the bulk onboarding route through a real Temporal
 * dev server and worker (each dossier stored once, bad items named, bounds, 503 without Temporal).
 */

/** Without Temporal: degraded health, the bulk route's 503. */
let harness: ServerHarness;

/** GET /healthz on `harness`, started while the dev server starts: it waits out its Temporal timeout. */
let degradedHealth: Promise<{ elapsedMs: number; reply: Awaited<ReturnType<typeof httpRequest>> }>;

before(async () => {
  harness = await startServerHarness();
  const started = Date.now();
  degradedHealth = httpRequest(`${harness.internalUrl}/healthz`).then((reply) => ({
    elapsedMs: Date.now() - started,
    reply,
  }));
});
after(async () => {
  await harness?.close();
});
setUpEngineServer();

describe('health', () => {
  it('is 503 with checks.temporal false, quickly, when Temporal is unreachable', async () => {
    const { elapsedMs, reply } = await degradedHealth;
    assert.ok(elapsedMs < 5000, `answered in ${elapsedMs} ms`);
    assert.equal(reply.status, 503);
    assert.deepEqual(reply.json, {
      status: 'degraded',
      checks: { postgres: true, temporal: false, listen: true },
    });
  });

  it('answers on the internal port only: the public port serves neither /healthz nor /metrics', async () => {
    for (const path of ['/healthz', '/metrics']) {
      assert.equal((await httpRequest(`${engineServer.url}${path}`)).status, 404, `public ${path}`);
      assert.equal((await httpRequest(`${engineServer.internalUrl}${path}`)).status, 200, `internal ${path}`);
    }
    assert.match(
      (await httpRequest(`${engineServer.internalUrl}/metrics`)).text,
      /^normx_notify_ws_connections /m,
    );
    // Nothing else is served there: the API and the bell page stay on the public port.
    assert.equal((await httpRequest(`${engineServer.internalUrl}/api/v1/openapi.json`)).status, 404);
  });

  it('is 200 ok with a real Temporal dev server', async () => {
    const reply = await httpRequest(`${engineServer.internalUrl}/healthz`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { status: 'ok', checks: { postgres: true, temporal: true, listen: true } });
  });
});

describe('onboarding route POST /api/v1/dossiers/bulk (service token, Temporal dev server, real worker)', () => {
  let service: string;
  const bulk = (body: unknown, token = service) =>
    httpRequest(`${engineServer.url}/api/v1/dossiers/bulk`, { token, body });
  const dueDate = DateTime.now().setZone('Europe/Paris').plus({ days: 30 }).toISODate()!;
  const batchOf = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, index) => ({
      id: `${prefix}-${index}`,
      title: `Dossier ${index}`,
      ownerId: `owner-${index % 5}`,
      dueDate,
    }));
  const createdRows = (prefix: string) =>
    engineServer.db.query<{ dossier_id: string; n: number }>(
      `select dossier_id, count(*)::int as n from notifications
        where kind = 'created' and dossier_id like $1 group by dossier_id`,
      [`${prefix}-%`],
    );

  before(async () => {
    service = await engineServer.token('normx-backend', { service: true });
  });

  it('202 with one result per dossier in order; each dossier stored once, also when the batch is sent again', async () => {
    const batch = batchOf('B1', 60);
    const reply = await bulk({ dossiers: batch });
    assert.equal(reply.status, 202, reply.text);
    assert.equal(reply.json.sent, 60);
    const results = reply.json.results as Array<{ id: string; sent: boolean; eventId: string }>;
    assert.deepEqual(
      results.map((result) => [result.id, result.sent]),
      batch.map((dossier) => [dossier.id, true]),
    );
    await waitFor('60 "created" rows', async () => (await createdRows('B1')).length === 60, {
      timeoutMs: 60_000,
    });
    // The backend retries the whole batch with the event ids it got: nothing is stored twice.
    const again = await bulk({
      dossiers: batch.map((dossier, index) => ({ ...dossier, eventId: results[index]!.eventId })),
    });
    assert.equal(again.status, 202, again.text);
    const plan = await waitFor('the last dossier planned', async () => {
      const reply = await httpRequest<{ pending: unknown[] }>(
        `${engineServer.url}/api/v1/dossiers/B1-59/plan`,
        { token: service },
      );
      return reply.status === 200 && reply.json;
    });
    assert.equal(plan.pending.length, 5);
    const rows = await createdRows('B1');
    assert.equal(rows.length, 60);
    assert.ok(
      rows.every((row) => row.n === 1),
      'one "created" per dossier',
    );
  });

  it('400 naming dossiers.<index>.<field> for a bad item or a repeated id, and nothing is sent', async () => {
    const batch = batchOf('B2', 5);
    const badDate = await bulk({
      dossiers: batch.map((d, i) => (i === 3 ? { ...d, dueDate: '2027-02-30' } : d)),
    });
    assert.equal(badDate.status, 400, badDate.text);
    assert.equal(badDate.json.error.code, 'validation_failed');
    assert.deepEqual(
      badDate.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers.3.dueDate'],
    );
    const repeated = await bulk({ dossiers: [...batch, batch[1]] });
    assert.equal(repeated.status, 400, repeated.text);
    assert.deepEqual(
      repeated.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers.5.id'],
    );
    const missing = await httpRequest(`${engineServer.url}/api/v1/dossiers/B2-0/plan`, { token: service });
    assert.equal(missing.status, 404, 'the valid dossiers of a refused batch were not sent');
  });

  it('400 for an empty batch or more than 1,000; 1,000 dossiers at the field limits fit; 413 past 8 MiB; 401 for an anonymous body before it is read; 403 for a user token', async () => {
    assert.equal((await bulk({ dossiers: [] })).status, 400);
    const tooMany = await bulk({ dossiers: batchOf('B3', 1001) });
    assert.equal(tooMany.status, 400, tooMany.text);
    assert.deepEqual(
      tooMany.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers'],
    );
    // 1,000 titles of 500 "é" sent as \u00e9 escapes (~3 MB): the body fits, the validation
    // (one bad date at the end) answers, and nothing is sent.
    const escaped = JSON.stringify({
      dossiers: batchOf('B6', 1000).map((d, index) => ({
        ...d,
        title: 'é'.repeat(500),
        ...(index === 999 && { dueDate: '2027-02-30' }),
      })),
    }).replace(/é/g, '\\u00e9');
    assert.ok(escaped.length > 2_500_000, `${escaped.length} bytes`);
    const large = await httpRequest(`${engineServer.url}/api/v1/dossiers/bulk`, {
      token: service,
      method: 'POST',
      body: escaped,
    });
    assert.equal(large.status, 400, large.text.slice(0, 300));
    assert.deepEqual(
      large.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers.999.dueDate'],
    );
    const huge = await bulk({
      dossiers: batchOf('B4', 1).map((d) => ({ ...d, title: 'x'.repeat(9_000_000) })),
    });
    assert.equal(huge.status, 413, huge.text);
    assert.equal(huge.json.error.code, 'payload_too_large');
    const anonymous = await httpRequest(`${engineServer.url}/api/v1/dossiers/bulk`, {
      method: 'POST',
      body: { dossiers: batchOf('B7', 1).map((d) => ({ ...d, title: 'x'.repeat(2_000_000) })) },
    });
    assert.equal(anonymous.status, 401, 'the token is checked before the body is read');
    const user = await bulk({ dossiers: batchOf('B5', 1) }, await engineServer.token('alice'));
    assert.equal(user.status, 403);
  });

  it('503 with every dossier not sent, without waiting out a timeout per dossier, when Temporal is unreachable', async () => {
    const reply = await httpRequest(`${harness.url}/api/v1/dossiers/bulk`, {
      token: await harness.token('normx-backend', { service: true }),
      body: { dossiers: batchOf('B8', 100) },
    });
    assert.equal(reply.status, 503, reply.text);
    assert.equal(reply.json.sent, 0);
    const results = reply.json.results as Array<{
      id: string;
      sent: boolean;
      eventId: string;
      error: string;
    }>;
    assert.equal(results.length, 100);
    assert.ok(results.every((result) => !result.sent && result.eventId && result.error));
    assert.ok(
      results.filter((result) => result.error.startsWith('not sent after an earlier failure')).length >= 50,
      'after the first failures, the rest are not started',
    );
  });
});
