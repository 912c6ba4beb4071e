import type { TemplatedApp } from 'uWebSockets.js';
import type { z } from 'zod';
import { parse } from '../../client/dossier-schemas.js';
import type { Logger } from '../../config/logger.js';
import { authFailure } from '../auth/auth-failure.js';
import type { AuthError, Principal, TokenVerifier } from '../auth/token-verifier.js';
import { ClientError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import type { InFlight } from '../in-flight.js';
import { clientErrorOf } from './client-errors.js';
import { jsonRoute, type JsonReply, type RequestContext, type RouteOptions } from './http-io.js';

/**
 * What every REST route uses: its registration, the token's checks, and its input and engine
 * calls, whose refusals go through the one error mapper (`clientErrorOf`, client-errors.ts).
 */
export interface RestKit {
  route(
    method: 'get' | 'post' | 'put',
    pattern: string,
    handler: (context: RequestContext) => Promise<JsonReply>,
    options?: RouteOptions,
  ): void;
  /** The user named in the path (`me` names the token's subject): the token's user only. */
  userOf(context: RequestContext): Promise<string>;
  /**
   * The user named in the path, for their own token (`me` or their id) or the service token (an
   * id, not `me`): what both the user and the backend may read and change (preferences).
   */
  userOrService(context: RequestContext): Promise<string>;
  /** The service token only (dossier calls, plans, profiles). */
  service(context: RequestContext): Promise<void>;
  /** `value` read with `schema`; refused, a 400 `validation_failed` naming each field under `field`. */
  input<S extends z.ZodType>(schema: S, value: unknown, field?: string): z.output<S>;
  /** Calls the reminder engine's client API (202: accepted), its refusals mapped by `clientErrorOf`. */
  engine<T>(call: () => Promise<T>, status?: number): Promise<{ status: number; body: T }>;
}

export function restKit(
  app: TemplatedApp,
  deps: { verifier: TokenVerifier; metrics: ServerMetrics; logger: Logger; inFlight?: InFlight },
): RestKit {
  async function authenticate(context: RequestContext): Promise<Principal> {
    const match = /^Bearer (.+)$/i.exec(context.authorization);
    try {
      return await deps.verifier.verify(match?.[1]);
    } catch (error) {
      throw authFailure(error as AuthError, deps);
    }
  }

  return {
    route: (method, pattern, handler, options) =>
      jsonRoute(app, method, pattern, deps.logger, handler, { ...options, inFlight: deps.inFlight }),
    async userOf(context) {
      const principal = await authenticate(context);
      const requested = context.params[0] === 'me' ? principal.subject : context.params[0];
      if (principal.isService || requested !== principal.subject) {
        throw new ClientError('forbidden', 'A user reads and marks only their own notifications');
      }
      return principal.subject;
    },
    async userOrService(context) {
      const principal = await authenticate(context);
      const requested = context.params[0];
      if (principal.isService) {
        if (requested === 'me')
          throw new ClientError('forbidden', 'The service token names the user by id, not `me`');
        return requested!;
      }
      if (requested !== 'me' && requested !== principal.subject) {
        throw new ClientError('forbidden', 'A user reads and changes only their own preferences');
      }
      return principal.subject;
    },
    async service(context) {
      const principal = await authenticate(context);
      if (!principal.isService)
        throw new ClientError('forbidden', 'Dossier operations need the service token');
    },
    input(schema, value, field = '') {
      try {
        return parse(schema, value, field);
      } catch (error) {
        throw clientErrorOf(error) ?? error;
      }
    },
    async engine(call, status = 202) {
      try {
        return { status, body: await call() };
      } catch (error) {
        throw clientErrorOf(error) ?? error;
      }
    },
  };
}
