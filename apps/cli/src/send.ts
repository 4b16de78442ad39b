import { parseArgs } from 'node:util';
import { type checkStored, type LoadSummary, runLoad, waitUntilStored } from '@imsync/simulator';
import { SingleBar } from 'cli-progress';
import { defaultCallbackUrl, LOCAL_DEFAULTS } from './defaults.js';

const HELP = `imsync send: post Group.CallbackAfterSendMsg callbacks like Tencent's IM backend does

  --url URL            callback URL (default: $IMSYNC_URL or http://127.0.0.1:$PORT/im/callback)
  --app-id ID          SdkAppid (default: $TIM_SDK_APP_ID or ${LOCAL_DEFAULTS.sdkAppId})
  --token TOKEN        callback token to sign with (default: $TIM_CALLBACK_TOKEN or the demo token)
  --unsigned           send without Sign/RequestTime
  --count N            new messages to send (default 100)
  --rate R             sends per second, on a clock (default 50; 0 = as fast as --concurrency allows)
  --concurrency C      requests in flight at most (default 16)
  --duplicates F       share of extra sends that repeat an earlier message, 0-1 (default 0.1)
  --groups G           groups to spread messages over (default 20)
  --seed S             random seed, for a repeatable run
  --verify             then wait until every acknowledged message is in PostgreSQL ($DATABASE_URL)
  --verify-timeout S   seconds to wait for that (default 60)
  --json               print the summary as JSON (no progress bar)
`;

export async function send(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      'app-id': { type: 'string' },
      token: { type: 'string' },
      unsigned: { type: 'boolean', default: false },
      count: { type: 'string', default: '100' },
      rate: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '16' },
      duplicates: { type: 'string', default: '0.1' },
      groups: { type: 'string', default: '20' },
      seed: { type: 'string' },
      verify: { type: 'boolean', default: false },
      'verify-timeout': { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const number = (name: string, value: string, min: number, max: number) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new UsageError(`--${name} must be a number from ${min} to ${max} (got ${value})`);
    }
    return parsed;
  };
  const env = process.env;
  const url = values.url ?? env.IMSYNC_URL ?? defaultCallbackUrl(env);
  const sdkAppId = values['app-id'] ?? env.TIM_SDK_APP_ID ?? LOCAL_DEFAULTS.sdkAppId;
  const token = values.unsigned ? undefined : (values.token ?? env.TIM_CALLBACK_TOKEN ?? LOCAL_DEFAULTS.token);
  const count = number('count', values.count, 1, 10_000_000);
  const databaseUrl = env.DATABASE_URL;
  if (values.verify && !databaseUrl) {
    throw new UsageError('--verify needs DATABASE_URL (the archive the workers write to)');
  }

  const bar = values.json
    ? undefined
    : new SingleBar({
        format: ' {bar} {value}/{total} sent | {acked} acked | {rejected} rejected | {failed} failed',
        hideCursor: true,
      });
  const counts = { acked: 0, rejected: 0, failed: 0 };
  const total = Math.round(count * (1 + number('duplicates', values.duplicates, 0, 1)));
  bar?.start(total, 0, counts);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  const summary = await runLoad({
    url,
    sdkAppId,
    token,
    count,
    rate: number('rate', values.rate, 0, 1_000_000),
    concurrency: number('concurrency', values.concurrency, 1, 10_000),
    duplicateRatio: number('duplicates', values.duplicates, 0, 1),
    groups: number('groups', values.groups, 1, 100_000),
    seed: values.seed === undefined ? undefined : number('seed', values.seed, 0, 2 ** 32),
    signal: abort.signal,
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

  const verification =
    values.verify && databaseUrl
      ? await waitUntilStored(
          databaseUrl,
          sdkAppId,
          summary.acknowledgedMessages,
          number('verify-timeout', values['verify-timeout'], 0, 3600) * 1000,
        )
      : undefined;
  if (values.json) {
    const { acknowledgedMessages, sentMessages, ...rest } = summary;
    const counts = { acknowledgedMessages: acknowledgedMessages.length, sentMessages: sentMessages.length };
    process.stdout.write(`${JSON.stringify({ url, ...rest, ...counts, verification })}\n`);
  } else {
    process.stdout.write(formatSummary(url, summary, verification));
  }
  const lost = verification ? verification.missing : 0;
  return summary.failed === 0 && lost === 0 && Object.keys(summary.rejected).length === 0 ? 0 : 1;
}

export class UsageError extends Error {}

function formatSummary(url: string, s: LoadSummary, v: Awaited<ReturnType<typeof checkStored>> | undefined): string {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const rejected =
    Object.entries(s.rejected)
      .map(([status, n]) => `${n}×${status}`)
      .join(', ') || '0';
  const errors = Object.entries(s.errors)
    .map(([error, n]) => `${n}× ${error}`)
    .join(', ');
  const lines = [
    '',
    `  target        ${url}`,
    `  sent          ${s.sent} (${s.sent - s.duplicatesSent} messages + ${s.duplicatesSent} repeats) in ${(s.elapsedMs / 1000).toFixed(1)} s, ${(s.sent / (s.elapsedMs / 1000)).toFixed(0)}/s`,
    `  acknowledged  ${s.acknowledged} (200) | rejected ${rejected} | failed ${s.failed}${errors ? ` (${errors})` : ''}`,
    `  latency       p50 ${ms(s.latency.p50)} | p90 ${ms(s.latency.p90)} | p99 ${ms(s.latency.p99)} | max ${ms(s.latency.max)}`,
  ];
  if (s.lateSends > 0) {
    lines.push(`  late sends    ${s.lateSends} (all ${'--concurrency'} slots were busy; raise it or lower --rate)`);
  }
  if (v) {
    lines.push(
      `  stored        ${v.stored} of ${s.acknowledgedMessages.length} acknowledged messages | missing ${v.missing} | duplicate rows ${v.duplicateRows}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
