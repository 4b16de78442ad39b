import * as v from 'valibot';

/** One short line for a reply's `ErrorInfo`: the first few issues with their paths. */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[], max = 3): string {
  const parts = issues.slice(0, max).map((issue) => {
    const path = v.getDotPath(issue);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length > max ? ` (+${issues.length - max} more)` : '';
  return `${parts.join('; ')}${more}`;
}
