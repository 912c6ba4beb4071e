import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DOSSIER_ID_PATTERN,
  DUE_DATE_MAX,
  DUE_DATE_MIN,
  ID_MAX_LENGTH,
  OWNER_NAME_MAX_LENGTH,
  TITLE_MAX_LENGTH,
} from '../../domain/limits.js';
import { httpRequest, startServerHarness, type ServerHarness } from '../support/notify-server.js';

/**
 * The OpenAPI document a real server publishes (`GET /api/v1/openapi.json`): the routes, request
 * schemas and socket messages, the input limits as the domain states them, patterns that
 * compile, and only routes that exist. The fuzzers (fuzz-openapi, fuzz-raw-http) take it as
 * their map of the API.
 */

let harness: ServerHarness;
before(async () => {
  harness = await startServerHarness();
});
after(async () => {
  await harness?.close();
});

describe('OpenAPI document', () => {
  type Operation = {
    requestBody?: {
      content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }>;
    };
    responses: Record<string, unknown>;
  };
  let document: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, { oneOf?: unknown[]; anyOf?: unknown[] }> };
  };

  before(async () => {
    const reply = await httpRequest<typeof document>(`${harness.url}/api/v1/openapi.json`);
    assert.equal(reply.status, 200);
    assert.match(reply.contentType, /application\/json/);
    document = reply.json;
  });

  it('is OpenAPI 3.1.0 with the routes, request schemas and socket messages', () => {
    assert.equal(document.openapi, '3.1.0');
    const create = document.paths['/api/v1/dossiers']?.post;
    const schema = create?.requestBody?.content['application/json']?.schema;
    assert.ok(schema?.properties);
    for (const field of ['id', 'title', 'ownerId', 'dueDate', 'dueAt', 'urgent', 'owner']) {
      assert.ok(field in schema.properties, field);
    }
    assert.deepEqual([...(schema.required ?? [])].sort(), ['id', 'ownerId', 'title']);
    const read = document.paths['/api/v1/users/{userId}/notifications/read']?.post;
    assert.ok(read?.requestBody?.content['application/json']?.schema.properties?.ids);
    for (const name of ['ClientMessage', 'ServerMessage']) {
      const variants = document.components.schemas[name]?.oneOf ?? document.components.schemas[name]?.anyOf;
      assert.ok(Array.isArray(variants), name);
    }
    const clientTypes = JSON.stringify(document.components.schemas.ClientMessage);
    for (const type of ['resume', 'mark_read', 'mark_all_read', 'refresh_token'])
      assert.ok(clientTypes.includes(`"${type}"`));
    const serverTypes = JSON.stringify(document.components.schemas.ServerMessage);
    for (const type of ['notification', 'unread_count', 'resumed', 'token_expiring', 'error'])
      assert.ok(serverTypes.includes(`"${type}"`));
  });

  it("documents the input limits, the plan route's 409, and only patterns that compile", () => {
    const create = document.paths['/api/v1/dossiers']?.post;
    const properties = create?.requestBody?.content['application/json']?.schema.properties as Record<
      string,
      {
        pattern?: string;
        maxLength?: number;
        description?: string;
        properties?: Record<string, { maxLength?: number }>;
      }
    >;
    assert.equal(properties.id?.pattern, DOSSIER_ID_PATTERN.source);
    assert.equal(properties.title?.maxLength, TITLE_MAX_LENGTH);
    assert.equal(properties.ownerId?.maxLength, ID_MAX_LENGTH);
    assert.equal(properties.eventId?.maxLength, ID_MAX_LENGTH);
    assert.equal(properties.owner?.properties?.name?.maxLength, OWNER_NAME_MAX_LENGTH);
    assert.match(properties.dueDate?.description ?? '', new RegExp(`${DUE_DATE_MIN}.*${DUE_DATE_MAX}`));
    assert.ok(document.paths['/api/v1/dossiers/{id}/plan']?.get?.responses['409'], 'the 409 is documented');
    // JSON Schema patterns are ECMA-262 regular expressions: each must compile.
    const patterns = [...JSON.stringify(document).matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map(
      (match) => JSON.parse(match[1]!) as string,
    );
    assert.ok(patterns.length > 0);
    for (const pattern of patterns) assert.doesNotThrow(() => new RegExp(pattern, 'u'), pattern);
  });

  it("documents the user profile route: the owner profile's fields plus eventId, nothing else, 202", () => {
    const operation = document.paths['/api/v1/users/{userId}/profile']?.put;
    const schema = operation?.requestBody?.content['application/json']?.schema as
      { properties?: Record<string, unknown>; additionalProperties?: unknown } | undefined;
    assert.deepEqual(Object.keys(schema?.properties ?? {}).sort(), [
      'businessCalendar',
      'eventId',
      'locale',
      'name',
      'reminderTime',
      'timezone',
    ]);
    assert.equal(schema?.additionalProperties, false);
    for (const status of ['202', '400', '401', '403']) assert.ok(operation?.responses[status], status);
  });

  it('documents only routes that exist: each answers something other than 404', async () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => [method.toUpperCase(), path] as const),
    );
    assert.ok(operations.length >= 14);
    for (const [method, path] of operations) {
      const concrete = path.replace('{userId}', 'me').replace('{id}', 'D-1');
      const reply = await httpRequest(`${harness.url}${concrete}`, { method });
      assert.notEqual(reply.status, 404, `${method} ${path}`);
      assert.equal(reply.status, 401, `${method} ${path}`);
    }
  });
});
