import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFixture } from '@imsync/fixtures';
import { exited, freePort, spawnCaptured, spawnOwned, waitFor } from '@imsync/testing';
import { expect, onTestFinished } from 'vitest';
import { installed, read, root } from './compose-files.js';
import { signed, test } from './stack.js';

// A real Prometheus (Debian's package; CI installs it) scrapes a running receiver, worker and
// archive maintenance with the job names the rules expect, loads the shipped rules, and is queried
// back: the metric names, labels and scrape targets the alerts and the Grafana dashboard rely on
// are proven, not assumed.

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function startPrometheus(targets: { receiver: string; worker: string; maintenance: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-prometheus-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(root, 'deploy/prometheus/imsync-rules.yml')],
      scrape_configs: [
        { job_name: 'imsync-receiver', static_configs: [{ targets: [targets.receiver] }] },
        { job_name: 'imsync-worker', static_configs: [{ targets: [targets.worker] }] },
        { job_name: 'imsync-archive-maintenance', static_configs: [{ targets: [targets.maintenance] }] },
      ],
    }),
  );
  const child = spawnOwned('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  onTestFinished(async () => {
    child.kill('SIGTERM');
    await exited(child);
    await rm(dir, { recursive: true, force: true });
  });
  const api = `http://127.0.0.1:${port}/api/v1`;
  const query = async (expr: string): Promise<QueryResult[]> => {
    const res = await fetch(`${api}/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: QueryResult[] } };
    if (body.status !== 'success') {
      throw new Error(`${expr}: ${body.error}`);
    }
    return body.data?.result ?? [];
  };
  return { api, query };
}

test('Prometheus scrapes the receiver, the worker and the archive maintenance, finds the series the rules and the dashboard query, and evaluates every rule', async ({
  stack,
  skip,
}) => {
  skip(!installed('prometheus') && !process.env.CI, 'prometheus not installed (apt-get install prometheus)');
  const workerPort = (await stack.workers[0]?.waitForLine((line) => line.msg === 'worker started'))?.port;
  const receiverOps = new URL(stack.receiverOpsUrl).host;
  // The archive maintenance as compose runs it, on the stack's database (it is the owner here).
  const maintenance = spawnCaptured(process.execPath, ['--import', 'tsx', 'src/maintain.ts'], {
    cwd: join(root, 'apps/worker'),
    env: { DATABASE_URL: stack.databaseUrl, METRICS_PORT: '0', ARCHIVE_RETENTION_DAYS: '30' },
  });
  onTestFinished(() => maintenance.stop().then(() => undefined));
  const maintenancePort = await waitFor(() => maintenance.output().match(/"metricsPort":(\d+)/)?.[1], {
    what: 'the archive maintenance listening',
  });
  const prometheus = await startPrometheus({
    receiver: receiverOps,
    worker: `127.0.0.1:${workerPort}`,
    maintenance: `127.0.0.1:${maintenancePort}`,
  });

  const body = JSON.stringify({ ...loadFixture('text-public').body, MsgSeq: 7 });
  expect((await fetch(signed(stack.receiverUrl), { method: 'POST', body })).status).toBe(200);

  // Both targets up, and the stored message counted, as Prometheus sees them.
  await waitFor(
    async () =>
      (await prometheus.query('up{job=~"imsync-receiver|imsync-worker|imsync-archive-maintenance"} == 1')).length ===
        3 &&
      (await prometheus.query('imsync_archive_maintenance_runs_total{outcome="ok"} >= 1')).length === 1 &&
      (await prometheus.query('imsync_jobs_processed_total{job="imsync-worker",outcome="stored"} >= 1')).length === 1,
    { what: 'every target up, the stored job and a maintenance pass scraped', timeoutMs: 30_000, intervalMs: 500 },
  );
  const accepted = await prometheus.query(
    'sum by (job, command) (imsync_callbacks_received_total{outcome="accepted"})',
  );
  expect(accepted).toEqual([
    { metric: { job: 'imsync-receiver', command: 'Group.CallbackAfterSendMsg' }, value: [expect.any(Number), '1'] },
  ]);
  const up = await prometheus.query('imsync_dependency_up');
  expect(up.map(({ metric, value }) => `${metric.job} ${metric.dependency} ${value[1]}`).sort()).toEqual([
    'imsync-archive-maintenance postgres 1',
    'imsync-receiver redis 1',
    'imsync-worker postgres 1',
    'imsync-worker redis 1',
  ]);
  for (const expr of [
    'imsync_callback_ack_duration_seconds_bucket{job="imsync-receiver",outcome="accepted",le="2"} == 1',
    'max by (queue, shard) (imsync_queue_oldest_waiting_age_seconds)',
    'max by (queue, shard) (imsync_queue_jobs{state="waiting"})',
    'nodejs_eventloop_lag_p99_seconds{job="imsync-worker"}',
    'process_resident_memory_bytes{job="imsync-receiver"}',
    // The pass made today's partition and the next 7 days'.
    'imsync_archive_partitions{job="imsync-archive-maintenance",table="group_messages"} >= 8',
    'time() - imsync_archive_maintenance_last_success_timestamp_seconds < 600',
  ]) {
    expect((await prometheus.query(expr)).length, expr).toBeGreaterThan(0);
  }

  // Every query of the Grafana dashboard parses and runs (an empty answer is fine: no destination
  // or backfill here), with Grafana's $__rate_interval as Grafana would fill it in.
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/imsync.json')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
  expect(exprs.length).toBeGreaterThan(15);
  for (const expr of exprs) {
    await prometheus.query(expr.replaceAll('$__rate_interval', '1m'));
  }

  // The shipped rules loaded and evaluated against these real series without an error, and none
  // fires on a healthy pipeline.
  await waitFor(
    async () => {
      const res = (await (await fetch(`${prometheus.api}/rules`)).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[] };
      };
      const rules = res.data.groups.flatMap((group) => group.rules);
      const evaluated = rules.filter((rule) => !rule.lastEvaluation.startsWith('0001'));
      if (evaluated.length < rules.length || rules.length === 0) {
        return false;
      }
      expect(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError}`)).toEqual([]);
      return true;
    },
    { what: 'every rule evaluated', timeoutMs: 20_000, intervalMs: 500 },
  );
  expect(await prometheus.query('ALERTS{alertstate="firing"}')).toEqual([]);
});
