import { ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { DossierNotFoundError, DossierNotReadyError } from '../../client/dossier-client.js';
import { ValidationError } from '../../client/dossier-schemas.js';
import { ClientError, validationFailed } from '../errors.js';

/**
 * The one mapping of the REST routes' failures to client errors: a refused input (400
 * `validation_failed`, every field named, as the socket's through `validationFailed`), a plan
 * not loaded yet, a dossier never created or unknown to Temporal, Temporal unreachable or
 * overloaded (503: the call may or may not have been applied; sent again with its event id, it is
 * applied once). Anything else is not the client's: `undefined`, and the route answers 500.
 */
export function clientErrorOf(error: unknown): ClientError | undefined {
  if (error instanceof ValidationError) return validationFailed(error.issues, error.message);
  if (error instanceof DossierNotReadyError) return new ClientError('dossier_not_ready', error.message);
  if (error instanceof DossierNotFoundError) return new ClientError('not_found', error.message);
  // The plan of an id that never had a workflow: Temporal knows no `dossier:<id>` (domain/dossier.ts).
  const unknownDossier = error instanceof WorkflowNotFoundError && /^dossier:(.+)$/s.exec(error.workflowId);
  if (unknownDossier)
    return new ClientError('not_found', new DossierNotFoundError(unknownDossier[1]!).message);
  if (
    error instanceof ServiceError &&
    TEMPORAL_DOWN.has((error.cause as { code?: unknown } | undefined)?.code)
  )
    return new ClientError(
      'unavailable',
      'The reminder engine (Temporal) did not answer: the call may or may not have been applied; send it again (with its eventId it is applied once)',
    );
  return undefined;
}

/** gRPC codes of a Temporal server that did not answer or is overloaded: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED. */
const TEMPORAL_DOWN = new Set<unknown>([14, 4, 8]);
