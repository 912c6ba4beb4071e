import type { z } from 'zod';

/** One bad field of a refused input: its dotted path (`ids.0`, `query.before`) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Where the fields of a refused value are named from. */
export interface IssueNaming {
  /** The value's own name, prefixed to each path (`query`, `id`); none by default. */
  at?: string;
  /** The name of an issue about the value as a whole (an empty path); `(input)` by default. */
  whole?: string;
}

/**
 * The one naming of a zod error's fields, for every caller that reports them (the client API's
 * `ValidationError`, the REST bodies, the socket's `error` frames, `?lastId=`): each issue's path
 * joined with dots under `at`. An unknown field is named itself, not its parent, one issue per
 * unknown field. Pure: the client and the server both import it (client/ never imports server/).
 */
export function issuesOf(error: z.ZodError, { at = '', whole = '(input)' }: IssueNaming = {}): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const path = [at, ...issue.path.map(String)];
    const names = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...path, key]) : [path];
    return names.map((name) => ({
      field: name.filter(Boolean).join('.') || whole,
      message: issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message,
    }));
  });
}
