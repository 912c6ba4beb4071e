import { readFile } from 'node:fs/promises';

/** The warnings and errors in a stack process's log (pino or zap JSON, logfmt, plain text). */

export interface LogSummary {
  component: 'devServer' | 'worker' | 'server';
  /** The process's name when there are several of its kind (`worker 2`). */
  name?: string;
  file: string;
  lines: number;
  warnings: number;
  errors: number;
  /** Up to 8 distinct messages of warning level or above, with their counts. */
  top: Array<{ message: string; count: number }>;
}

/** Counts warning and error lines in a JSON (pino / zap) or plain log; the most frequent messages. */
export async function summarizeLog(component: LogSummary['component'], file: string): Promise<LogSummary> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // no log yet
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  let warnings = 0;
  let errors = 0;
  const counts = new Map<string, number>();
  for (const line of lines) {
    let level: string;
    let message = line;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      // pino: numeric level (40 warn, 50 error, 60 fatal); zap (Temporal): "level":"warn".
      const raw = entry.level;
      level =
        typeof raw === 'number'
          ? raw >= 50
            ? 'error'
            : raw >= 40
              ? 'warn'
              : 'info'
          : String(raw ?? '').toLowerCase();
      message = String(entry.msg ?? entry.message ?? line);
      const err = entry.err as { message?: string } | undefined;
      const detail = entry.error ?? err?.message;
      if (detail) message += `: ${String(detail)}`;
    } catch {
      // logfmt (the Temporal CLI: `time=… level=WARN msg="…"`) or plain text.
      const logfmtLevel = /\blevel=(\w+)/.exec(line)?.[1];
      level = logfmtLevel
        ? logfmtLevel.toLowerCase()
        : /\b(error|fatal|panic)\b/i.test(line)
          ? 'error'
          : /\bwarn/i.test(line)
            ? 'warn'
            : 'info';
      const logfmtMessage = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? /\bmsg=(\S+)/.exec(line)?.[1];
      if (logfmtMessage) {
        const error = /\berror="((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
        message = error ? `${logfmtMessage}: ${error}` : logfmtMessage;
      }
    }
    if (level.startsWith('warn')) warnings += 1;
    else if (['error', 'fatal', 'panic', 'dpanic'].includes(level)) errors += 1;
    else continue;
    const key = `${level}: ${message.replace(/\d{3,}/g, 'N').slice(0, 200)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([message, count]) => ({ message, count }));
  return { component, file, lines: lines.length, warnings, errors, top };
}
