import { DossierNotFoundError, DossierNotReadyError } from '../../client/dossier-client.js';
import { ValidationError } from '../../client/dossier-schemas.js';
import { ClientError } from '../errors.js';

/**
 * The one mapping of the routes' failures to client errors: a refused input (400
 * `validation_failed`, naming the field), a plan not loaded yet, a dossier never created.
 * Anything else is not the client's: `undefined`, and the route answers 500.
 */
export function clientErrorOf(error: unknown): ClientError | undefined {
  if (error instanceof ValidationError)
    return new ClientError('validation_failed', error.message, error.issues);
  if (error instanceof DossierNotReadyError) return new ClientError('dossier_not_ready', error.message);
  if (error instanceof DossierNotFoundError) return new ClientError('not_found', error.message);
  return undefined;
}
