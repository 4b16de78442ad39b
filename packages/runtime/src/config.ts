import * as v from 'valibot';

export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at start when the environment does not describe a runnable process. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once, at start, into a typed config. Every problem is listed, one per
 * line and named by its variable, so a bad deployment says exactly what to fix.
 */
export function parseConfig<TSchema extends v.GenericSchema<Env, unknown>>(
  schema: TSchema,
  env: Env,
): v.InferOutput<TSchema> {
  // An empty variable counts as unset: compose passes `${VAR:-}` as "" when VAR is not set.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = v.safeParse(schema, set);
  if (result.success) {
    return result.output;
  }
  const lines = result.issues.map((issue) => {
    const name = v.getDotPath(issue);
    if (name === null) {
      // A rule across variables: its input is the whole environment, secrets included.
      return `  ${issue.message}`;
    }
    if (issue.input === undefined) {
      return `  ${name}: is required but not set`;
    }
    const shown = shownValue(name, issue.input);
    // Some messages quote what they received; a secret must not get out that way either.
    const message =
      typeof issue.input === 'string' && issue.input.length > 0
        ? issue.message.split(issue.input).join(shown)
        : issue.message;
    return `  ${name}: ${message} (got ${shown})`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** Variables whose value is a credential by name; their values never reach a log or a terminal. */
const SECRET_VARIABLE = /(TOKEN|PASSWORD|SECRET|_KEY|CREDENTIAL)|^TIM_APPS$/;

/**
 * What a config error may show of a value: nothing of a secret variable, and a URL with its
 * password (and any query, which may carry tokens) replaced, so a typo never leaks a credential.
 */
function shownValue(name: string, value: unknown): string {
  if (SECRET_VARIABLE.test(name)) {
    return '(a secret, not shown)';
  }
  return typeof value === 'string' ? JSON.stringify(redactUrl(value)) : JSON.stringify(value);
}

const URL_CREDENTIALS = /^([a-z][\w+.-]*:\/\/)(.*)@/is;

/**
 * A URL's credentials and query replaced by `***` (a password, or a token in the user or query
 * part); any other string unchanged. No URL parser: the value is often the malformed URL that
 * failed to parse.
 */
export function redactUrl(text: string): string {
  if (!/^[a-z][\w+.-]*:\/\//i.test(text)) {
    return text;
  }
  let redacted = text.replace(/\?.*$/s, '?***');
  const credentials = URL_CREDENTIALS.exec(redacted);
  if (credentials) {
    const [whole, scheme, userinfo = ''] = credentials;
    const user = userinfo.includes(':') ? `${userinfo.slice(0, userinfo.indexOf(':'))}:***` : '***';
    redacted = `${scheme}${user}@${redacted.slice(whole.length)}`;
  }
  return redacted;
}

/** An optional integer variable with a default and bounds, e.g. `PORT`. */
export function intVar(fallback: number, min: number, max: number) {
  return v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^-?\d+$/, 'must be an integer'),
    v.transform(Number),
    v.minValue(min, `must be ≥ ${min}`),
    v.maxValue(max, `must be ≤ ${max}`),
  );
}

/** A required URL with one of the given schemes, e.g. `REDIS_URL`. */
export function urlVar(schemes: readonly string[], fallback?: string) {
  const base = fallback === undefined ? v.string('is required') : v.optional(v.string(), fallback);
  return v.pipe(
    base,
    v.check(
      (value) => {
        try {
          return schemes.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`,
    ),
  );
}

export const LogLevelVar = v.optional(
  v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  'info',
);

/** Loads config in a process entry point: a ConfigError prints its list and exits 1, with no stack trace. */
export function loadConfigOrExit<T>(processName: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    exitOnConfigError(processName, error);
  }
}

/**
 * Runs a start-up step (listening on a port, say) in a process entry point: a ConfigError prints
 * its one readable line and exits 1; anything else is a bug and keeps its stack trace.
 */
export async function startOrExit<T>(processName: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    exitOnConfigError(processName, error);
  }
}

function exitOnConfigError(processName: string, error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${processName}: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
