/**
 * Failure types shared by activities (which throw them) and workflows (which recognise them).
 * No I/O: workflow code imports this file.
 */

/**
 * An activity's input that the database cannot store (PostgreSQL data exception, constraint
 * violation, program limit): retrying cannot help, so the activity fails non-retryably with this
 * type and the workflow records the event as rejected instead of retrying for ever.
 */
export const INVALID_DATA_FAILURE = 'InvalidData';
