import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../../config/logger.js';
import { ClientError, statusLine, validationFailed } from '../errors.js';
import type { InFlight } from '../in-flight.js';

export interface RequestContext {
  method: string;
  /** The route pattern, never the raw URL (which may carry a token). */
  route: string;
  params: string[];
  query: URLSearchParams;
  authorization: string;
  body: unknown;
}

export interface JsonReply {
  status: number;
  body: unknown;
  contentType?: string;
}

const MAX_BODY_BYTES = 64 * 1024;

export interface RouteOptions {
  /** The largest body the route reads (default 64 KiB); larger is a 413 payload_too_large. */
  maxBodyBytes?: number;
  /**
   * Runs before the body is read (a throw answers without reading it): a route that takes a
   * large body checks the token first, so that no anonymous request makes the server buffer it.
   */
  authorize?: (context: RequestContext) => Promise<void>;
  /** The server's requests under way: counted until answered, refused once it stops. */
  inFlight?: InFlight;
}

/**
 * Registers a JSON route. uWebSockets.js rules: everything read from `req` is copied before
 * the first await (req is stack-allocated), `onAborted` is set before any await, and the reply
 * is written inside `res.cork`. Errors become JSON bodies from the error catalog.
 */
export function jsonRoute(
  app: TemplatedApp,
  method: 'get' | 'post' | 'put',
  pattern: string,
  logger: Logger,
  handler: (context: RequestContext) => Promise<JsonReply>,
  { maxBodyBytes = MAX_BODY_BYTES, authorize, inFlight }: RouteOptions = {},
): void {
  const paramCount = pattern.split('/').filter((part) => part.startsWith(':')).length;
  app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
    // Decoded here (req must be read before any await), reported in `run`: a throw in this
    // callback would leave the request unanswered, which makes uWebSockets.js abort the process.
    const params = Array.from({ length: paramCount }, (_, index) =>
      decodePathParameter(req.getParameter(index)),
    );
    const context: RequestContext = {
      method: method.toUpperCase(),
      route: pattern,
      params: params.map((param) => param ?? ''),
      query: new URLSearchParams(req.getQuery() ?? ''),
      authorization: req.getHeader('authorization'),
      body: undefined,
    };
    let aborted = false;
    let bodyRead = false;
    res.onAborted(() => {
      aborted = true;
    });
    // A stopping server answers what it started; a new request (a keep-alive connection outlives
    // the listen socket) is told to go elsewhere, and its connection closed.
    const stopping = inFlight !== undefined && !inFlight.enter();
    const respond = (reply: JsonReply): void => {
      if (aborted) return;
      res.cork(() => {
        res
          .writeStatus(statusLine(reply.status))
          .writeHeader('content-type', reply.contentType ?? 'application/json')
          .writeHeader('cache-control', 'no-store')
          // A body left unread (refused before reading it, or too large) would stall the
          // connection: close it after the reply.
          .end(
            typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body),
            stopping || (method !== 'get' && !bodyRead),
          );
      });
    };
    // uWebSockets.js drops body chunks that arrive before `onData` is set: read from now on.
    // A route with `authorize` checks the token meanwhile and, refused, answers at once and
    // closes, so that an anonymous request holds at most what arrived during the check.
    if (stopping) {
      const refusal = new ClientError('shutting_down');
      respond({ status: refusal.status, body: refusal.toJSON() });
      return;
    }
    const body = method === 'get' ? undefined : readJsonBody(res, maxBodyBytes);
    body?.catch(() => undefined); // observed below; a refused request never awaits it
    const run = async (): Promise<void> => {
      if (params.includes(undefined))
        throw new ClientError('bad_request', 'The path is not valid percent-encoded UTF-8');
      if (authorize) await authorize(context);
      if (body) {
        context.body = await body;
        bodyRead = true;
      }
      respond(await handler(context));
    };
    run()
      .catch((error: unknown) => {
        const clientError = error instanceof ClientError ? error : undefined;
        if (!clientError) logger.error({ err: error, route: pattern, method }, 'Request failed'); // with its stack
        const reply = clientError ?? new ClientError('internal');
        respond({ status: reply.status, body: reply.toJSON() });
      })
      .finally(() => inFlight?.leave());
  });
}

/**
 * Answers a request outside `jsonRoute` (the catch-all 404, the static files, a refused socket
 * upgrade) with a catalog error: its status, its Retry-After if it has one, and the same
 * `{ error: { code, message } }` body the REST routes send.
 */
export function replyClientError(res: HttpResponse, error: ClientError): void {
  res.cork(() => {
    res.writeStatus(statusLine(error.status)).writeHeader('content-type', 'application/json');
    if (error.retryAfterSeconds !== undefined)
      res.writeHeader('retry-after', String(error.retryAfterSeconds));
    res.end(JSON.stringify(error.toJSON()));
  });
}

/**
 * A path parameter, percent-decoded; `undefined` when it cannot be: a bad escape (`%`, `%E0%A4%A`)
 * or bytes that are not UTF-8 (`%ED%A0%80`, a lone surrogate), on which decodeURIComponent throws.
 */
export function decodePathParameter(raw: string | undefined): string | undefined {
  try {
    return decodeURIComponent(raw ?? '');
  } catch {
    return undefined;
  }
}

/** Reads a JSON body of at most `maxBytes`; an empty body is `undefined`. */
function readJsonBody(res: HttpResponse, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        reject(new ClientError('payload_too_large', `The body is larger than ${maxBytes} bytes`));
        return;
      }
      // The chunk's memory is reused after this callback returns: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk.slice(0))));
      if (!isLast) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return reject(new ClientError('bad_request', 'The body is not valid JSON'));
      }
      // JSON.parse keeps a `__proto__` key as an own property, which the schemas then skip
      // silently (a preferences body would reset every kind): refused, named.
      const path = protoKeyPath(body);
      if (path !== undefined)
        return reject(validationFailed([{ field: path, message: '`__proto__` is not a field name' }]));
      resolve(body);
    });
  });
}

/**
 * The path of a `__proto__` key in a parsed body (`kinds.__proto__`), or undefined. Iterative, each
 * value linked to its parent: a body nested deeper than the call stack (JSON.parse takes it) must
 * neither overflow it nor copy a long path per value.
 */
export function protoKeyPath(body: unknown): string | undefined {
  interface Visit {
    value: unknown;
    key?: string;
    parent?: Visit;
  }
  const pending: Visit[] = [{ value: body }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value } = next;
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      if (key === '__proto__') {
        const path = [key];
        for (let at: Visit | undefined = next; at?.key !== undefined; at = at.parent) path.unshift(at.key);
        return path.join('.');
      }
      pending.push({ value: (value as Record<string, unknown>)[key], key, parent: next });
    }
  }
  return undefined;
}
