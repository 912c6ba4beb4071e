import type { RetryPolicy } from '@temporalio/common';
import { INVALID_DATA_FAILURE } from '../domain/failures.js';

/**
 * How the workflows retry their database activities, defined once. Unlimited attempts: a
 * reminder must not be lost to a database outage, and every write is idempotent. Data the
 * database refuses fails non-retryably instead (INVALID_DATA_FAILURE), so that no input leaves a
 * workflow retrying for ever.
 */
export const databaseRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [INVALID_DATA_FAILURE],
};
