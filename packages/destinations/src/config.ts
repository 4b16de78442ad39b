import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { SUPPORTED_COMMANDS } from '@imsync/protocol';
import { DESTINATION_NAME } from '@imsync/queue';
import { ConfigError, type Env, parseConfig } from '@imsync/runtime';
import * as v from 'valibot';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { DEFAULT_HTTP_TIMEOUT_MS } from './http.js';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from './schedule.js';

/** What every destination's config entry may say about how its queue runs it. */
interface CommonConfig {
  /** `a-z0-9-`, unique: its queue's name, its log lines, its metric labels. */
  readonly name: string;
  /** Its subscription; absent means every command of the catalog. */
  readonly commands?: ReadonlySet<string>;
  /** At most `max` deliveries per `durationMs` (the queue's limiter); unlimited when absent. */
  readonly rateLimit?: { readonly max: number; readonly durationMs: number };
  /** Deliveries in flight at once; the delivery worker's default when absent. */
  readonly concurrency?: number;
  /** The longest one attempt may take before it counts as a `retry`. */
  readonly timeoutMs: number;
  /** Waits before each attempt (see DEFAULT_RETRY_SCHEDULE); its length is the number of attempts. */
  readonly retrySchedule: readonly number[];
}

export interface HttpDestinationConfig extends CommonConfig {
  readonly type: 'http';
  readonly url: string;
  /** `whsec_…`, each of them signing every request. */
  readonly secrets: readonly string[];
}

export interface ModuleDestinationConfig extends CommonConfig {
  readonly type: 'module';
  /** Absolute (a relative path in the file is resolved against the file's folder). */
  readonly module: string;
  /** Passed to the module's `createDestination` as written; the module checks it. */
  readonly options: Readonly<Record<string, unknown>>;
}

export type DestinationConfig = HttpDestinationConfig | ModuleDestinationConfig;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * `whsec_` and the base64 of 24 to 64 bytes, the Standard Webhooks secret format. Checked here so
 * that a pasted secret with a typo fails the start, not every delivery.
 */
function isWebhookSecret(value: string): boolean {
  if (!value.startsWith('whsec_')) {
    return false;
  }
  const encoded = value.slice('whsec_'.length);
  if (!BASE64.test(encoded)) {
    return false;
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

const SECRET_RULE = 'must be whsec_ followed by the base64 of 24 to 64 random bytes';

// Every message below is our own: valibot's defaults quote the value received, and a value here
// may be a secret.
const SecretSchema = v.pipe(v.string(SECRET_RULE), v.check(isWebhookSecret, SECRET_RULE));

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

const URL_RULE = 'must be an http(s) URL without credentials';
const UrlSchema = v.pipe(v.string(URL_RULE), v.check(isHttpUrl, URL_RULE));

const integer = (min: number, max: number) =>
  v.pipe(
    v.number(`must be a whole number from ${min} to ${max}`),
    v.check((n) => Number.isInteger(n) && n >= min && n <= max, `must be a whole number from ${min} to ${max}`),
  );

const RetryScheduleSchema = v.pipe(
  v.union(
    [v.string(), v.array(v.union([v.string(), v.number()]))],
    'must be a list of waits like "0,5s,5m,30m,2h" (or the same as a list)',
  ),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    try {
      return parseRetrySchedule(typeof value === 'string' ? value : value.map(String));
    } catch (error) {
      addIssue({ message: (error as Error).message });
      return NEVER;
    }
  }),
);

/**
 * An object's message for its three issues: an unknown key (a typo, which would otherwise be
 * ignored silently), a missing key (the issue has a path) and not being an object at all.
 */
const objectMessage = (expected: string) => (issue: v.BaseIssue<unknown>) => {
  if (issue.expected === 'never') {
    return 'is not a setting here (a typo?)';
  }
  return issue.path === undefined ? `must be ${expected}` : 'is required';
};

const commonEntries = {
  name: v.pipe(
    v.string('must be a name of a-z, 0-9 and -'),
    v.regex(DESTINATION_NAME, 'must be 1 to 63 of a-z, 0-9 and -, starting with a letter or digit'),
  ),
  commands: v.optional(
    v.pipe(
      v.array(
        v.picklist(SUPPORTED_COMMANDS, `must be one of the catalog's commands: ${SUPPORTED_COMMANDS.join(', ')}`),
        'must be a list of commands',
      ),
      v.minLength(1, 'must list at least one command (leave it out for all of them)'),
      v.transform((commands): ReadonlySet<string> => new Set(commands)),
    ),
  ),
  rateLimit: v.optional(
    v.strictObject(
      { max: integer(1, 1_000_000), durationMs: integer(1, 86_400_000) },
      objectMessage('an object { max, durationMs }'),
    ),
  ),
  concurrency: v.optional(integer(1, 1000)),
  timeoutMs: v.optional(integer(100, 600_000), DEFAULT_HTTP_TIMEOUT_MS),
  // The default is filled in below: a default here would go through the parser as text.
  retrySchedule: v.optional(RetryScheduleSchema),
};

// A strict object, not a pipe (valibot's variant takes no pipes): "secret xor secrets" is checked
// with the file, below.
const HttpEntrySchema = v.strictObject(
  {
    ...commonEntries,
    type: v.literal('http'),
    url: UrlSchema,
    secret: v.optional(SecretSchema),
    secrets: v.optional(
      v.pipe(v.array(SecretSchema, 'must be a list of secrets'), v.minLength(1, 'must list at least one secret')),
    ),
  },
  objectMessage('an object'),
);

const ModuleEntrySchema = v.strictObject(
  {
    ...commonEntries,
    type: v.literal('module'),
    module: v.pipe(v.string('must be a path to an ES module'), v.minLength(1, 'must be a path to an ES module')),
    options: v.optional(
      v.record(v.string(), v.unknown(), 'must be an object (given to the module as it is)'),
      () => ({}),
    ),
  },
  objectMessage('an object'),
);

const FileSchema = v.pipe(
  // valibot takes an array for an object (then misses its keys): say what the file should be.
  v.custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'must be an object with a "destinations" list',
  ),
  v.strictObject(
    {
      destinations: v.array(
        v.variant('type', [HttpEntrySchema, ModuleEntrySchema], (issue) =>
          issue.input === undefined ? 'is required: "http" or "module"' : 'must be "http" or "module"',
        ),
        'must be a list',
      ),
    },
    objectMessage('an object with a "destinations" list'),
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) {
      return;
    }
    const { destinations } = dataset.value;
    // A path for an issue found across entries, so it is named like the others.
    const at = (index: number, key?: string): [v.IssuePathItem, ...v.IssuePathItem[]] => {
      const entry = destinations[index] as Record<string, unknown>;
      return [
        { type: 'object', origin: 'value', input: dataset.value, key: 'destinations', value: destinations },
        { type: 'array', origin: 'value', input: destinations, key: index, value: entry },
        ...(key === undefined
          ? []
          : [{ type: 'object', origin: 'value', input: entry, key, value: entry[key] } as const]),
      ];
    };
    const seen = new Map<string, number>();
    destinations.forEach((entry, index) => {
      const first = seen.get(entry.name);
      if (first === undefined) {
        seen.set(entry.name, index);
      } else {
        addIssue({
          message: `is already the name of destinations[${first}]; names must be unique`,
          path: at(index, 'name'),
        });
      }
      if (entry.type === 'http' && (entry.secret === undefined) === (entry.secrets === undefined)) {
        addIssue({
          message: 'needs either "secret" or "secrets" (a list, for rotation), and not both',
          path: at(index),
        });
      }
    });
  }),
);

const EnvSchema = v.pipe(
  v.object({
    IMSYNC_SINKS_FILE: v.optional(v.string()),
    SYNC_HTTP_URL: v.optional(UrlSchema),
    // Several secrets (a rotation) separated by spaces or commas.
    SYNC_HTTP_SECRET: v.optional(
      v.pipe(
        v.string(),
        v.transform((text) => text.split(/[\s,]+/).filter(Boolean)),
        v.check((secrets) => secrets.length > 0 && secrets.every(isWebhookSecret), `${SECRET_RULE} (each of them)`),
      ),
    ),
  }),
  v.check(
    (env) => (env.SYNC_HTTP_URL === undefined) === (env.SYNC_HTTP_SECRET === undefined),
    'SYNC_HTTP_URL and SYNC_HTTP_SECRET go together: set both or neither',
  ),
  v.check(
    (env) => env.IMSYNC_SINKS_FILE === undefined || env.SYNC_HTTP_URL === undefined,
    'set IMSYNC_SINKS_FILE or SYNC_HTTP_URL, not both (list the HTTP destination in the file)',
  ),
);

/**
 * The destinations to deliver to, read once at start: those of `IMSYNC_SINKS_FILE` (JSON, or
 * YAML when it ends in .yaml or .yml), or the one named `http` of `SYNC_HTTP_URL` and
 * `SYNC_HTTP_SECRET`, or none. Throws a ConfigError listing every problem by variable and path,
 * e.g. `IMSYNC_SINKS_FILE destinations[1].url: must be an http(s) URL without credentials`; no
 * message quotes a value from the file.
 */
export function loadDestinationsConfig(
  env: Env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): DestinationConfig[] {
  const vars = parseConfig(EnvSchema, env);
  if (vars.SYNC_HTTP_URL !== undefined && vars.SYNC_HTTP_SECRET !== undefined) {
    return [
      {
        type: 'http',
        name: 'http',
        url: vars.SYNC_HTTP_URL,
        secrets: vars.SYNC_HTTP_SECRET,
        timeoutMs: DEFAULT_HTTP_TIMEOUT_MS,
        retrySchedule: DEFAULT_RETRY_SCHEDULE,
      },
    ];
  }
  if (vars.IMSYNC_SINKS_FILE === undefined) {
    return [];
  }
  const file = resolve(vars.IMSYNC_SINKS_FILE);
  const result = v.safeParse(FileSchema, readConfigFile(file, readFile));
  if (!result.success) {
    const lines = result.issues.map((issue) => `  IMSYNC_SINKS_FILE ${issuePath(issue)}: ${issue.message}`);
    throw new ConfigError(`invalid configuration in ${file}:\n${lines.join('\n')}`);
  }
  return result.output.destinations.map((entry): DestinationConfig => {
    const retrySchedule = entry.retrySchedule ?? DEFAULT_RETRY_SCHEDULE;
    if (entry.type === 'module') {
      return { ...entry, module: resolve(dirname(file), entry.module), retrySchedule };
    }
    const { secret, secrets, ...rest } = entry;
    return { ...rest, retrySchedule, secrets: secrets ?? (secret === undefined ? [] : [secret]) };
  });
}

function readConfigFile(file: string, readFile: (path: string) => string): unknown {
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(`IMSYNC_SINKS_FILE: cannot read ${file} (${typeof code === 'string' ? code : error})`);
  }
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  try {
    return yaml ? parseYaml(text, { prettyErrors: false }) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `IMSYNC_SINKS_FILE: ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${syntaxError(error, text)}`,
    );
  }
}

/**
 * A parser's complaint without the excerpt of the file that JSON.parse and yaml put in it (the
 * excerpt may be a secret), with a line and column when the parser gave a position.
 */
function syntaxError(error: unknown, text: string): string {
  if (error instanceof YAMLParseError) {
    return `${error.message} (${lineColumn(text, error.pos[0])})`;
  }
  const message = error instanceof Error ? error.message.replace(/,\s*(?:\.\.\.)?".*$/s, '') : String(error);
  const position = /at position (\d+)/.exec(message);
  const what = message.replace(/ in JSON at position \d+.*$/s, '');
  return position?.[1] === undefined ? what : `${what} (${lineColumn(text, Number(position[1]))})`;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** `destinations[1].url`, from a valibot issue's path. */
function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '';
  for (const item of issue.path ?? []) {
    const key = item.key;
    path += typeof key === 'number' ? `[${key}]` : `${path === '' ? '' : '.'}${String(key)}`;
  }
  return path === '' ? '(the whole file)' : path;
}
