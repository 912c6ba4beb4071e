import type { RetryPolicy } from '@temporalio/common';
import { INVALID_DATA_FAILURE } from '../domain/failures.js';

/**
 * How the workflows retry their activities, defined once.
 *
 * FROZEN: the database retry of the v1 dossier workflow (workflows/legacy/), before data the
 * database refuses failed non-retryably; its runs keep it until they end or continue-as-new.
 * Unlimited attempts, backing off to one a minute.
 */
export const databaseRetryV1: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
};

/**
 * The database activities of the current workflows. Unlimited attempts: a reminder must not be
 * lost to a database outage, and every write is idempotent. Data the database refuses fails
 * non-retryably instead (INVALID_DATA_FAILURE), so that no input leaves a workflow retrying for
 * ever. (Change the intervals here by spelling them out: the v1 ones above stay as they are.)
 */
export const databaseRetry: RetryPolicy = {
  ...databaseRetryV1,
  nonRetryableErrorTypes: [INVALID_DATA_FAILURE],
};

/** The periodic jobs' activities (urgent check, reconciliation, daily report, audit): bounded, the next run tries again. */
export const periodicJobRetry: RetryPolicy = {
  initialInterval: '5 seconds',
  maximumInterval: '2 minutes',
  maximumAttempts: 10,
};
