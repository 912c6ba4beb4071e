import type { z } from 'zod';
import { issuesOf, type FieldIssue, type IssueNaming } from '../client/input-issues.js';

/** What the web client does when its socket is closed with an error's close code. */
export type ClientAction = 'reconnect' | 'refresh_token' | 'stop';

/**
 * Every error the server reports to a client, in one place: its code, HTTP status and
 * WebSocket close code. Close codes 4000-4999 are the application's own (RFC 6455 §7.4.2).
 * `clientAction`: what the web client does when its socket is closed with that close code
 * (reconnect with backoff and `lastId`; get a fresh token and reconnect; stop and report a fatal
 * error); the errors sharing a close code agree on it. web/client/close-codes.ts is generated from
 * it (scripts/generate-close-codes.ts; test/unit/notify-client-close-codes.test.ts fails when they differ).
 * `retryAfterSeconds`: the Retry-After an HTTP reply with that code carries, unless the error
 * gives its own.
 */
export const errorCatalog = {
  bad_request: { status: 400, closeCode: 4400, message: 'The request is malformed', clientAction: 'stop' },
  validation_failed: { status: 400, closeCode: 4400, message: 'The input is invalid', clientAction: 'stop' },
  unauthorized: {
    status: 401,
    closeCode: 4401,
    message: 'A valid token is required',
    clientAction: 'refresh_token',
  },
  token_expired: {
    status: 401,
    closeCode: 4401,
    message: 'The token has expired',
    clientAction: 'refresh_token',
  },
  forbidden: { status: 403, closeCode: 4403, message: 'This token may not do that', clientAction: 'stop' },
  origin_not_allowed: {
    status: 403,
    closeCode: 4403,
    message: 'This Origin is not allowed',
    clientAction: 'stop',
  },
  // REST routes only (no socket is closed with it).
  not_found: { status: 404, closeCode: 4404, message: 'Not found', clientAction: 'reconnect' },
  // Only the plan route uses it (no socket does): a dossier whose workflow has not loaded it yet.
  dossier_not_ready: {
    status: 409,
    closeCode: 4409,
    message: 'The dossier is being created: ask again in a moment',
    clientAction: 'reconnect',
  },
  payload_too_large: {
    status: 413,
    closeCode: 1009,
    message: 'The message is too large',
    clientAction: 'stop',
  },
  rate_limited: { status: 429, closeCode: 4429, message: 'Too many messages', clientAction: 'reconnect' },
  // Connection caps: answered to the upgrade request, before any socket.
  too_many_sockets: {
    status: 429,
    closeCode: 4429,
    message: 'Too many open sockets for this user: close a tab',
    clientAction: 'reconnect',
    // A tab has to close first: no use asking again soon.
    retryAfterSeconds: 30,
  },
  // Its Retry-After is the address's own wait (the bucket's), given with the error.
  too_many_upgrades: {
    status: 429,
    closeCode: 4429,
    message: 'Too many connection attempts from this address: retry later',
    clientAction: 'reconnect',
  },
  server_busy: {
    status: 503,
    closeCode: 1013,
    message: 'The server is busy: retry later',
    clientAction: 'reconnect',
    // Opening reads take milliseconds.
    retryAfterSeconds: 1,
  },
  slow_consumer: {
    status: 503,
    closeCode: 4503,
    message: 'The client is not reading: reconnect to catch up',
    clientAction: 'reconnect',
  },
  unavailable: {
    status: 503,
    closeCode: 1011,
    message: 'A dependency is unavailable',
    clientAction: 'reconnect',
  },
  internal: { status: 500, closeCode: 1011, message: 'Internal error', clientAction: 'reconnect' },
  shutting_down: {
    status: 503,
    closeCode: 1001,
    message: 'The server is going away: reconnect',
    clientAction: 'reconnect',
  },
} as const satisfies Record<
  string,
  {
    status: number;
    closeCode: number;
    message: string;
    clientAction: ClientAction;
    retryAfterSeconds?: number;
  }
>;

export type ErrorCode = keyof typeof errorCatalog;

export type { FieldIssue } from '../client/input-issues.js';

/**
 * An error meant for the client: the code picks status, close code and Retry-After from the
 * catalog; `retryAfterSeconds` replaces the catalog's Retry-After (a wait known only then).
 */
export class ClientError extends Error {
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string = errorCatalog[code].message,
    readonly issues: FieldIssue[] = [],
    { retryAfterSeconds }: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'ClientError';
    const entry = errorCatalog[code];
    this.retryAfterSeconds =
      retryAfterSeconds ?? ('retryAfterSeconds' in entry ? entry.retryAfterSeconds : undefined);
  }

  get status(): number {
    return errorCatalog[this.code].status;
  }

  get closeCode(): number {
    return errorCatalog[this.code].closeCode;
  }

  toJSON(): { error: { code: ErrorCode; message: string; issues?: FieldIssue[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.issues.length > 0 && { issues: this.issues }),
      },
    };
  }
}

/**
 * The one `validation_failed` of a refused input, REST or socket: every bad field in `issues`
 * (named by client/input-issues.ts), the message listing them as `field: what is wrong` unless
 * given (the client API's `ValidationError` has its own). A socket's `error` frame carries the
 * message; an HTTP body carries both.
 */
export function validationFailed(
  issues: FieldIssue[],
  message: string = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '),
): ClientError {
  return new ClientError('validation_failed', message, issues);
}

/** A value its schema refused (a socket message, `?lastId=`), as `validation_failed`. */
export function invalidInput(error: z.ZodError, naming?: IssueNaming): ClientError {
  return validationFailed(issuesOf(error, naming));
}

/** HTTP status lines uWebSockets.js needs written out. */
export const statusLine = (status: number): string => `${status} ${statusText[status] ?? 'Error'}`;

const statusText: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
