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
  const result = v.safeParse(schema, env);
  if (result.success) {
    return result.output;
  }
  const lines = result.issues.map((issue) => {
    const name = v.getDotPath(issue) ?? '(environment)';
    return issue.input === undefined
      ? `  ${name}: is required but not set`
      : `  ${name}: ${issue.message} (got ${JSON.stringify(issue.input)})`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
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
    if (error instanceof ConfigError) {
      process.stderr.write(`${processName}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
