import { parseArgs } from 'node:util';
import {
  AppListSchema,
  type AppTokens,
  GROUP_AFTER_SEND_MSG,
  type JobKind,
  SUPPORTED_COMMANDS,
} from '@imsync/protocol';
import {
  type ArchiveCheck,
  commandsProblem,
  type KindCheck,
  type LoadSummary,
  runLoad,
  waitUntilArchived,
} from '@imsync/simulator';
import { SingleBar } from 'cli-progress';
import { defaultCallbackUrl, LOCAL_DEFAULTS } from './defaults.js';

export const SEND_HELP = `imsync send: post callbacks like Tencent's IM backend does (Group.CallbackAfterSendMsg unless --commands says more)

  --url URL            callback URL (default: $IMSYNC_URL or http://127.0.0.1:$PORT/im/callback)
  --app-id ID          SdkAppid (default: $TIM_SDK_APP_ID or ${LOCAL_DEFAULTS.sdkAppId})
  --token TOKEN        callback token to sign with (default: $TIM_CALLBACK_TOKEN or the demo token)
  --apps ID:TOKEN,...  several apps instead, written as the receiver's TIM_APPS: each callback goes to
                       one of them, signed with its token (one of them, for an app listed twice)
  --unsigned           send without Sign/RequestTime
  --commands C,...     callback commands to send, or "all" (default: ${GROUP_AFTER_SEND_MSG}).
                       Recalls name messages the run sends (about 1 message in 10 is recalled);
                       1 recall in 5 comes before its message. Supported:
                       ${SUPPORTED_COMMANDS.join(',\n                       ')}
  --count N            new callbacks to send (default 100)
  --rate R             sends per second, on a clock (default 50; 0 = as fast as --concurrency allows)
  --concurrency C      requests in flight at most (default 16)
  --duplicates F       share of extra sends that repeat an earlier callback, 0-1 (default 0.1)
  --groups G           groups (per app) to spread messages over (default 20)
  --seed S             random seed, for a repeatable run
  --drop F             withhold this share (0-1) of group messages, as if Tencent's callback was lost, after
                       recording every group message in the fake Tencent API's history (pnpm start
                       --fake-tencent), so that gap detection and backfill can bring them. Only what backfill
                       can recover is withheld: not AVChatRoom or online-only messages, and not the first
                       message of a group or topic (imsync cannot see a hole below the first it stores)
  --drop-tail N        withhold the group messages among the last N callbacks too (a silent tail)
  --fake-tencent URL   the fake Tencent API to record in (default: $IMSYNC_FAKE_TENCENT_URL or
                       http://127.0.0.1:${LOCAL_DEFAULTS.fakeTencentPort})
  --verify             then wait until every acknowledged callback is in PostgreSQL ($DATABASE_URL), and
                       report per app and kind the missing and duplicate rows, recalls not applied to their
                       message and C2C messages stored with another send result
                       (withheld messages included, with how many came from backfill)
  --verify-timeout S   seconds to wait for that (default 60; with --drop, allow for GAP_GRACE_SECONDS)
  --json               print the summary as JSON (no progress bar)
`;

export class UsageError extends Error {}

/** What `imsync send` was asked to do. */
export interface SendPlan {
  url: string;
  apps: AppTokens;
  commands: readonly string[];
  count: number;
  rate: number;
  concurrency: number;
  duplicates: number;
  groups: number;
  seed: number | undefined;
  /** Set with --drop or --drop-tail: what to withhold, and the fake Tencent API that records it. */
  drop: { share: number; tail: number; fakeTencentUrl: string } | undefined;
  /** Set with --verify. */
  verify: { databaseUrl: string; timeoutMs: number } | undefined;
  json: boolean;
}

/** Reads the command line (and the environment's defaults); a bad one throws a UsageError. */
export function parseSendArgs(argv: string[], env: NodeJS.ProcessEnv): SendPlan | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      'app-id': { type: 'string' },
      token: { type: 'string' },
      apps: { type: 'string' },
      unsigned: { type: 'boolean', default: false },
      commands: { type: 'string' },
      count: { type: 'string', default: '100' },
      rate: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '16' },
      duplicates: { type: 'string', default: '0.1' },
      groups: { type: 'string', default: '20' },
      seed: { type: 'string' },
      drop: { type: 'string' },
      'drop-tail': { type: 'string' },
      'fake-tencent': { type: 'string' },
      verify: { type: 'boolean', default: false },
      'verify-timeout': { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    return 'help';
  }
  const number = (name: string, value: string, min: number, max: number) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new UsageError(`--${name} must be a number from ${min} to ${max} (got ${value})`);
    }
    return parsed;
  };
  const databaseUrl = env.DATABASE_URL;
  if (values.verify && !databaseUrl) {
    throw new UsageError('--verify needs DATABASE_URL (the archive the workers write to)');
  }
  return {
    url: values.url ?? env.IMSYNC_URL ?? defaultCallbackUrl(env),
    apps: appsOf(values, env),
    commands: commandsOf(values.commands),
    count: number('count', values.count, 1, 10_000_000),
    rate: number('rate', values.rate, 0, 1_000_000),
    concurrency: number('concurrency', values.concurrency, 1, 10_000),
    duplicates: number('duplicates', values.duplicates, 0, 1),
    groups: number('groups', values.groups, 1, 100_000),
    seed: values.seed === undefined ? undefined : number('seed', values.seed, 0, 2 ** 32),
    drop:
      values.drop === undefined && values['drop-tail'] === undefined
        ? undefined
        : {
            share: number('drop', values.drop ?? '0', 0, 1),
            tail: number('drop-tail', values['drop-tail'] ?? '0', 0, 10_000_000),
            fakeTencentUrl: (
              values['fake-tencent'] ??
              env.IMSYNC_FAKE_TENCENT_URL ??
              `http://127.0.0.1:${LOCAL_DEFAULTS.fakeTencentPort}`
            ).replace(/\/+$/, ''),
          },
    verify:
      values.verify && databaseUrl
        ? { databaseUrl, timeoutMs: number('verify-timeout', values['verify-timeout'], 0, 3600) * 1000 }
        : undefined,
    json: values.json,
  };
}

function appsOf(
  values: { apps?: string; 'app-id'?: string; token?: string; unsigned: boolean },
  env: NodeJS.ProcessEnv,
): AppTokens {
  if (values.apps === undefined) {
    const sdkAppId = values['app-id'] ?? env.TIM_SDK_APP_ID ?? LOCAL_DEFAULTS.sdkAppId;
    const token = values.unsigned ? undefined : (values.token ?? env.TIM_CALLBACK_TOKEN ?? LOCAL_DEFAULTS.token);
    return new Map([[sdkAppId, token === undefined ? [] : [token]]]);
  }
  if (values['app-id'] !== undefined || values.token !== undefined) {
    throw new UsageError('--apps names the apps and their tokens: leave out --app-id and --token');
  }
  // Through the Standard Schema interface every valibot schema has, so the CLI needs no valibot.
  const parsed = AppListSchema['~standard'].validate(values.apps);
  if (parsed instanceof Promise) {
    throw new Error('AppListSchema is synchronous');
  }
  if (parsed.issues) {
    throw new UsageError(`--apps ${parsed.issues.map((issue) => issue.message).join('; ')} (as TIM_APPS: ID:TOKEN,…)`);
  }
  return values.unsigned ? new Map([...parsed.value.keys()].map((id) => [id, []])) : parsed.value;
}

function commandsOf(value: string | undefined): readonly string[] {
  if (value === undefined) {
    return [GROUP_AFTER_SEND_MSG];
  }
  const listed = new Set(value.split(',').map((command) => command.trim()));
  const commands = listed.has('all') ? SUPPORTED_COMMANDS : [...listed].filter(Boolean);
  const problem = commandsProblem(commands);
  if (problem) {
    throw new UsageError(`--commands ${problem}`);
  }
  // In catalog order, so summaries read the same whatever order they were listed in.
  return SUPPORTED_COMMANDS.filter((command) => commands.includes(command));
}

export async function send(argv: string[]): Promise<number> {
  const plan = parseSendArgs(argv, process.env);
  if (plan === 'help') {
    process.stdout.write(SEND_HELP);
    return 0;
  }
  const bar = plan.json
    ? undefined
    : new SingleBar({
        format: ' {bar} {value}/{total} sent | {acked} acked | {rejected} rejected | {failed} failed',
        hideCursor: true,
      });
  const counts = { acked: 0, rejected: 0, failed: 0 };
  bar?.start(Math.round(plan.count * (1 + plan.duplicates)), 0, counts);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  const summary = await runLoad({
    url: plan.url,
    apps: plan.apps,
    commands: plan.commands,
    count: plan.count,
    rate: plan.rate,
    concurrency: plan.concurrency,
    duplicateRatio: plan.duplicates,
    groups: plan.groups,
    seed: plan.seed,
    signal: abort.signal,
    ...(plan.drop && {
      drop: plan.drop.share,
      dropTail: plan.drop.tail,
      record: recorder(plan.drop.fakeTencentUrl),
      onWithheld: () => bar?.increment(1, counts),
    }),
    onResult: (result) => {
      if (result.status === 200) {
        counts.acked++;
      } else if (result.status >= 400 && result.status < 500) {
        counts.rejected++;
      } else {
        counts.failed++;
      }
      bar?.increment(1, counts);
    },
  });
  bar?.stop();

  const verification = plan.verify
    ? await waitUntilArchived(
        plan.verify.databaseUrl,
        [...summary.acknowledgedEvents, ...summary.withheldEvents],
        plan.verify.timeoutMs,
      )
    : undefined;
  if (plan.json) {
    const { acknowledgedEvents, sentEvents, withheldEvents, acknowledgedMessages, sentMessages, ...rest } = summary;
    const lengths = {
      withheldEvents: withheldEvents.length,
      acknowledgedEvents: acknowledgedEvents.length,
      sentEvents: sentEvents.length,
      acknowledgedMessages: acknowledgedMessages.length,
      sentMessages: sentMessages.length,
    };
    process.stdout.write(
      `${JSON.stringify({ url: plan.url, apps: [...plan.apps.keys()], ...rest, ...lengths, verification })}\n`,
    );
  } else {
    process.stdout.write(formatSummary(plan, summary, verification));
  }
  const intact =
    !verification ||
    (verification.missing === 0 &&
      verification.duplicateRows === 0 &&
      verification.notApplied === 0 &&
      verification.wrongSendResult === 0);
  return summary.failed === 0 && summary.recordFailures === 0 && intact && Object.keys(summary.rejected).length === 0
    ? 0
    : 1;
}

/** Records a group message in the fake Tencent API's history (`POST /fake/record`). */
function recorder(fakeTencentUrl: string): (sdkAppId: string, body: string) => Promise<void> {
  return async (sdkAppId, body) => {
    const response = await fetch(`${fakeTencentUrl}/fake/record`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sdkAppId, body }),
    }).catch((error: unknown) => {
      throw new Error(`the fake Tencent API at ${fakeTencentUrl} did not answer (pnpm start --fake-tencent?)`, {
        cause: error,
      });
    });
    if (!response.ok) {
      throw new Error(`the fake Tencent API answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    }
    await response.arrayBuffer();
  };
}

const KIND_NAMES: Record<JobKind, string> = {
  'group-message': 'group messages',
  'group-recall': 'group recalls',
  'c2c-message': 'C2C messages',
  'c2c-recall': 'C2C withdrawals',
  'group-event': 'group events',
};

function formatCheck(check: KindCheck, expected: string): string {
  const parts = [
    `${check.stored} of ${check.stored + check.missing} ${expected}`,
    `missing ${check.missing}`,
    `duplicate rows ${check.duplicateRows}`,
  ];
  if (check.notApplied !== undefined) {
    parts.push(`not applied to their message ${check.notApplied}`);
  }
  if (check.wrongSendResult !== undefined) {
    parts.push(`other send_result ${check.wrongSendResult}`);
  }
  if (check.backfilled) {
    parts.push(`from backfill ${check.backfilled}`);
  }
  return parts.join(' | ');
}

function formatSummary(plan: SendPlan, s: LoadSummary, v: ArchiveCheck | undefined): string {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const rejected =
    Object.entries(s.rejected)
      .map(([status, n]) => `${n}×${status}`)
      .join(', ') || '0';
  const errors = Object.entries(s.errors)
    .map(([error, n]) => `${n}× ${error}`)
    .join(', ');
  const what = plan.commands.length === 1 && plan.commands[0] === GROUP_AFTER_SEND_MSG ? 'messages' : 'callbacks';
  const lines = [
    '',
    `  target        ${plan.url}${plan.apps.size > 1 ? ` (apps ${[...plan.apps.keys()].join(', ')})` : ''}`,
    `  sent          ${s.sent} (${s.sent - s.duplicatesSent} ${what} + ${s.duplicatesSent} repeats) in ${(s.elapsedMs / 1000).toFixed(1)} s, ${(s.sent / (s.elapsedMs / 1000)).toFixed(0)}/s`,
  ];
  if (what === 'callbacks') {
    plan.commands.forEach((command, i) => {
      const early = s.earlyRecalls[command] ? ` (${s.earlyRecalls[command]} before their message)` : '';
      lines.push(`  ${i === 0 ? 'commands    ' : '            '}  ${command} ${s.sentByCommand[command] ?? 0}${early}`);
    });
  }
  lines.push(
    `  acknowledged  ${s.acknowledged} (200) | rejected ${rejected} | failed ${s.failed}${errors ? ` (${errors})` : ''}`,
    `  latency       p50 ${ms(s.latency.p50)} | p90 ${ms(s.latency.p90)} | p99 ${ms(s.latency.p99)} | max ${ms(s.latency.max)}`,
  );
  if (plan.drop) {
    lines.push(
      `  withheld      ${s.withheldEvents.length} group messages (recorded in ${plan.drop.fakeTencentUrl}, never sent)${s.recordFailures > 0 ? ` | ${s.recordFailures} not recorded` : ''}`,
    );
  }
  if (s.lateSends > 0) {
    lines.push(`  late sends    ${s.lateSends} (all ${'--concurrency'} slots were busy; raise it or lower --rate)`);
  }
  for (const [app, kinds] of Object.entries(v?.apps ?? {})) {
    for (const [kind, check] of Object.entries(kinds) as [JobKind, KindCheck][]) {
      lines.push(
        `  stored        app ${app}, ${KIND_NAMES[kind]}: ${formatCheck(check, kind === 'group-message' && plan.drop ? 'acknowledged or withheld' : 'acknowledged')}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
