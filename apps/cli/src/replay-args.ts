import { parseArgs } from 'node:util';
import { DEFAULT_RETRY_SCHEDULE } from '@imsync/destinations';
import { C2C_AFTER_MSG_WITHDRAW, C2C_AFTER_SEND_MSG, SdkAppIdSchema, SUPPORTED_COMMANDS } from '@imsync/protocol';
import { QueuePrefixVar } from '@imsync/queue';
import type { ArchiveSelection } from './replay-archive.js';
import { UsageError } from './send.js';

const DEFAULT_ATTEMPTS = DEFAULT_RETRY_SCHEDULE.length;
const DEFAULT_PAGE_ROWS = 1000;

export const REPLAY_HELP = `imsync replay: deliver archived events again, into one destination's queue

  --to NAME          the destination (required): one the workers run, as listed in Redis
                     ($QUEUE_PREFIX:destinations); its queue is deliver-NAME
  --since TIME       events received at or after TIME: ISO 8601 (2026-11-30T08:00Z; without a
                     zone, local time; a date alone, UTC midnight) or a time ago: 90s, 15m, 2h,
                     3d, 1w (default: the oldest archived)
  --until TIME       events received before TIME, same forms (default: when the run starts)
  --group GROUP_ID   events of this group only (group messages, recalls and events; C2C
                     messages and withdrawals have no group, and are left out)
  --command CMD      these commands only; repeat it or list them comma-separated (default: all):
                     ${SUPPORTED_COMMANDS.join(',\n                     ')}
  --app SDKAPPID     events of this app only
  --dry-run          count the events per command, enqueue nothing
  --run-id ID        the id an interrupted run printed: jobs it already added are skipped
  --json             print the summary as JSON (no progress bar)

Each event is delivered with the webhook-id of its original delivery (its key), so a receiver that
deduplicates by webhook-id sees a repeat, never a new event: replaying too much is harmless, and a
run stopped with Ctrl-C can simply be run again. Its job id is new (KEY-rRUN), so the original
delivery's job, still kept for an hour after it completed, does not swallow it. Jobs get the
destination's attempts and its worker's retry schedule. Without --command, only the commands the
destination subscribes to are replayed, as its workers recorded them.

Environment: DATABASE_URL (the archive; read only), REDIS_URL (as the workers'), QUEUE_PREFIX, QUEUE_SHARDS
(default imsync), REPLAY_ATTEMPTS (tries per delivery; default: what the destination's workers
recorded, else ${DEFAULT_ATTEMPTS}), REPLAY_PAGE_ROWS (rows read per
query, default ${DEFAULT_PAGE_ROWS}).
`;

/** What `imsync replay` was asked to do. */
export interface ReplayPlan extends ArchiveSelection {
  to: string;
  /** Commands left out because --group was given and they have no group. */
  leftOutByGroup: readonly string[];
  dryRun: boolean;
  json: boolean;
  runId: string;
  /** Whether the run id was given (a resumed run), not made up. */
  resumed: boolean;
  databaseUrl: string;
  redisUrl: string;
  /** REDIS_SENTINEL_PASSWORD, when the Sentinels want one. */
  sentinelPassword: string | undefined;
  prefix: string;
  /** QUEUE_SHARDS, as the workers have it: with several, queues carry hash tags. */
  shards: number;
  attempts: number;
  /** Whether --command / REPLAY_ATTEMPTS were given; if not, the destination's recorded settings apply. */
  commandsGiven: boolean;
  attemptsGiven: boolean;
}

/** The commands whose archive has no group column. */
const WITHOUT_GROUP = new Set([C2C_AFTER_SEND_MSG, C2C_AFTER_MSG_WITHDRAW]);

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const AGO = /^(\d+)(s|m|h|d|w)$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const RUN_ID = /^[a-z0-9]{1,32}$/;

/** Reads the command line and the environment; a bad one throws a UsageError. */
export function parseReplayArgs(argv: string[], env: NodeJS.ProcessEnv, now = new Date()): ReplayPlan | 'help' {
  let values: ReturnType<typeof readOptions>;
  try {
    values = readOptions(argv);
  } catch (error) {
    // Node's parseArgs errors (an unknown option, a missing value) are usage errors too.
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    return 'help';
  }
  if (values.to === undefined || values.to === '') {
    throw new UsageError('--to NAME is required: the destination to replay into (see --help)');
  }
  const set = (name: string) => (env[name] === '' ? undefined : env[name]);
  const databaseUrl = set('DATABASE_URL');
  const redisUrl = set('REDIS_URL');
  const missing = [!databaseUrl && 'DATABASE_URL (the archive)', !redisUrl && 'REDIS_URL (the queues)'].filter(Boolean);
  if (!databaseUrl || !redisUrl) {
    throw new UsageError(`needs ${missing.join(' and ')}`);
  }
  const since = values.since === undefined ? undefined : timeOf('since', values.since, now);
  const until = values.until === undefined ? now : timeOf('until', values.until, now);
  // Both given and swapped is a typo; a --since after now is only a window with nothing in it yet.
  if (since && values.until !== undefined && since >= until) {
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  }
  if (values.group === '') {
    throw new UsageError('--group needs a group id');
  }
  const selected = commandsOf(values.command);
  const leftOutByGroup = values.group === undefined ? [] : selected.filter((command) => WITHOUT_GROUP.has(command));
  const commands = selected.filter((command) => !leftOutByGroup.includes(command));
  if (commands.length === 0) {
    throw new UsageError(`--group selects group events only, and ${leftOutByGroup.join(' and ')} have no group`);
  }
  if (values.app !== undefined && !valid(SdkAppIdSchema, values.app)) {
    throw new UsageError(`--app must be an SDKAppID: 1 to 18 digits, no leading zero (got ${values.app})`);
  }
  if (values['run-id'] !== undefined && !RUN_ID.test(values['run-id'])) {
    throw new UsageError('--run-id must be the id a run printed: lowercase letters and digits');
  }
  return {
    to: values.to,
    since,
    until,
    group: values.group,
    app: values.app,
    commands,
    leftOutByGroup,
    dryRun: values['dry-run'],
    json: values.json,
    runId: values['run-id'] ?? newRunId(now),
    resumed: values['run-id'] !== undefined,
    databaseUrl,
    redisUrl,
    sentinelPassword: set('REDIS_SENTINEL_PASSWORD'),
    prefix: prefixOf(set('QUEUE_PREFIX')),
    shards: wholeNumber('QUEUE_SHARDS', set('QUEUE_SHARDS'), 1, 256),
    attempts: wholeNumber('REPLAY_ATTEMPTS', set('REPLAY_ATTEMPTS'), DEFAULT_ATTEMPTS, 100),
    commandsGiven: values.command !== undefined && values.command.length > 0,
    attemptsGiven: set('REPLAY_ATTEMPTS') !== undefined,
    pageRows: wholeNumber('REPLAY_PAGE_ROWS', set('REPLAY_PAGE_ROWS'), DEFAULT_PAGE_ROWS, 100_000),
  };
}

function readOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      to: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      group: { type: 'string' },
      command: { type: 'string', multiple: true },
      app: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'run-id': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
}

/** An ISO 8601 time, or a time ago (`2h`): checked, so a typo never silently means "everything". */
function timeOf(name: string, text: string, now: Date): Date {
  const ago = AGO.exec(text);
  if (ago) {
    return new Date(now.getTime() - Number(ago[1]) * (UNITS[ago[2] as string] as number));
  }
  const time = ISO_8601.test(text) ? new Date(text) : undefined;
  if (!time || Number.isNaN(time.getTime())) {
    throw new UsageError(
      `--${name} must be an ISO 8601 time (2026-11-30T08:00:00Z) or a time ago (2h, 3d), not ${text}`,
    );
  }
  return time;
}

function commandsOf(listed: string[] | undefined): readonly string[] {
  if (listed === undefined) {
    return SUPPORTED_COMMANDS;
  }
  const names = listed
    .flatMap((each) => each.split(','))
    .map((command) => command.trim())
    .filter(Boolean);
  const unknown = names.filter((command) => !SUPPORTED_COMMANDS.includes(command));
  if (unknown.length > 0 || names.length === 0) {
    const which = unknown.length > 0 ? ` (not ${unknown.join(', ')})` : '';
    throw new UsageError(`--command must name catalog commands${which}: ${SUPPORTED_COMMANDS.join(', ')}`);
  }
  // In catalog order, so summaries read the same whatever order they were listed in.
  return SUPPORTED_COMMANDS.filter((command) => names.includes(command));
}

type StandardResult<T> = { readonly value: T; readonly issues?: undefined } | { readonly issues: readonly unknown[] };

/** Through the Standard Schema interface every valibot schema has, so the CLI needs no valibot. */
function valid<T>(
  schema: { readonly '~standard': { validate(value: unknown): StandardResult<T> | Promise<StandardResult<T>> } },
  value: unknown,
): { value: T } | undefined {
  const parsed = schema['~standard'].validate(value);
  if (parsed instanceof Promise) {
    throw new Error('schema is not synchronous');
  }
  return parsed.issues ? undefined : { value: parsed.value };
}

function prefixOf(value: string | undefined): string {
  const parsed = valid(QueuePrefixVar, value);
  if (!parsed) {
    throw new UsageError('QUEUE_PREFIX must be letters, digits, _ . - only (as the workers have it)');
  }
  return parsed.value;
}

function wholeNumber(name: string, value: string | undefined, fallback: number, max: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${name} must be a whole number from 1 to ${max} (got ${value})`);
  }
  return n;
}

/** Sortable by time, and unlikely to repeat: base 36 milliseconds and a random tail. */
function newRunId(now: Date): string {
  return `${now.getTime().toString(36)}${Math.floor(Math.random() * 36 ** 3)
    .toString(36)
    .padStart(3, '0')}`;
}
