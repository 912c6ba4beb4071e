/**
 * What an audit run has done so far: heartbeated after each dossier, returned at the end, and read
 * back by a retried attempt, which resumes after the last dossier done
 * (activities/reminder-audit-activities.ts).
 */
export interface AuditProgress {
  /** The last open dossier id audited; '' before the first. */
  after: string;
  checked: number;
  /** Owed and found missing past the grace. */
  missing: number;
  restored: number;
  /** Missing, and its workflow has it armed and due (or cannot be asked): left to it, counted. */
  deferred: number;
  /** Owed by the rows, but no run of its workflow armed it (the rules skipped it): nothing sent. */
  notArmed: number;
  /** Missing, and the database refuses it (logged; the workflow recorded the same refusal). */
  refused: number;
  /** Rows it could not read (values written outside the API): logged and skipped. */
  unreadable: number;
  /** Owed by the rows, and Temporal has no run of the dossier to confirm it (past retention): logged. */
  noRuns: number;
}

const NO_PROGRESS: AuditProgress = {
  after: '',
  checked: 0,
  missing: 0,
  restored: 0,
  deferred: 0,
  notArmed: 0,
  refused: 0,
  unreadable: 0,
  noRuns: 0,
};

/** The progress a retried attempt heartbeated, or the beginning. */
export function resumeAudit(details: unknown): AuditProgress {
  if (typeof details !== 'object' || details === null) return NO_PROGRESS;
  const record = details as Record<string, unknown>;
  const counts = Object.keys(NO_PROGRESS).filter((key) => key !== 'after');
  const valid =
    typeof record.after === 'string' &&
    counts.every((key) => Number.isSafeInteger(record[key]) && (record[key] as number) >= 0);
  return valid ? (record as unknown as AuditProgress) : NO_PROGRESS;
}
