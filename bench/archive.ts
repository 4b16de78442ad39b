import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalPostgres } from '@imsync/local-services';
import { GroupMessageSchema, messageIdentity, messageKey } from '@imsync/protocol';
import { MessageFactory } from '@imsync/simulator';
import { createPool, maintainArchive, migrate, PostgresArchive } from '@imsync/sinks';
import type pg from 'pg';
import * as v from 'valibot';
import {
  APP,
  ARCHIVE_PLANS_SECTION,
  ARCHIVE_SECTION,
  COMMUNITIES,
  foldPlan,
  generateRows,
  QUERIES,
  type Shape,
  TOPICS,
} from './archive-queries.js';
import { withSection } from './lib/sections.js';
import { median, spread } from './lib/util.js';

// `pnpm bench:archive`: the partitioned archive (migration 5) against the same archive
// unpartitioned (the schema before it), on a generated table of a few million group messages
// over 30 days. Measures the insert rate through the real writer, the queries README shows (with
// their plans), and dropping a day against deleting it. Writes its section of BENCHMARKS.md and the
// plans into README.md. `--smoke` runs it on a small table in seconds (CI keeps it working).

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rows: { type: 'string' },
    benchmarks: { type: 'string', default: 'BENCHMARKS.md' },
    // A smoke run writes README only when told where (its plans mean nothing).
    readme: { type: 'string' },
  },
});
const smoke = values.smoke;
const say = (text: string) => process.stdout.write(`${text}\n`);
const started = Date.now();
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const days = 30;
const shape: Shape = {
  rows: Number(values.rows ?? (smoke ? 30_000 : 3_000_000)),
  days,
  groups: smoke ? 200 : 5000,
  users: smoke ? 500 : 50_000,
  // The data ends today: the live inserts below go into today's partition, as a worker's would.
  start: new Date(today - (days - 1) * DAY_MS),
};
const insertRounds = smoke ? 1 : 3;
const insertMessages = smoke ? 1000 : 20_000;
const queryRuns = smoke ? 3 : 25;

// fsync on (a data directory of its own), as a production server runs.
const dataDir = mkdtempSync(join(tmpdir(), 'imsync-archive-bench-'));
const postgres = await startLocalPostgres({ dataDir });
const urls = { partitioned: await postgres.createDatabase(), unpartitioned: await postgres.createDatabase() };
type Variant = keyof typeof urls;
const VARIANTS = Object.keys(urls) as Variant[];
// The workers' pool settings (statement timeout included) for what a worker or a user does …
const variants: Record<Variant, pg.Pool> = {
  partitioned: createPool({ connectionString: urls.partitioned, max: 60, onIdleError: () => {} }),
  unpartitioned: createPool({ connectionString: urls.unpartitioned, max: 60, onIdleError: () => {} }),
};
// … and no timeout for loading millions of rows, VACUUM and the DELETE compared with a dropped day.
const bulkPool = (connectionString: string) =>
  createPool({ connectionString, max: 1, statementTimeout: false, onIdleError: () => {} });
const bulk: Record<Variant, pg.Pool> = {
  partitioned: bulkPool(urls.partitioned),
  unpartitioned: bulkPool(urls.unpartitioned),
};
try {
  await migrate(variants.partitioned);
  // The schema as it was before migration 5: the same columns, one table.
  await migrate(variants.unpartitioned, { upTo: 4 });
  await maintainArchive(variants.partitioned, { aheadDays: days, now: shape.start });

  say(`generating ${shape.rows} group messages over ${days} days in each archive ...`);
  const generation: Record<Variant, number> = { partitioned: 0, unpartitioned: 0 };
  const chunk = 100_000;
  for (let from = 0; from < shape.rows; from += chunk) {
    for (const variant of VARIANTS) {
      const t0 = performance.now();
      await generateRows(bulk[variant], shape, from, Math.min(shape.rows, from + chunk));
      generation[variant] += performance.now() - t0;
    }
    say(`  ${Math.min(shape.rows, from + chunk)} rows`);
  }
  for (const variant of VARIANTS) {
    await bulk[variant].query('VACUUM ANALYZE group_messages');
  }

  say(`insert rate through the archive writer: ${insertRounds} rounds of ${insertMessages} messages ...`);
  const inserts: { variant: Variant; perSecond: number }[] = [];
  for (let round = 1; round <= insertRounds; round++) {
    const factory = new MessageFactory({ seed: round, groups: 500 });
    const events = Array.from({ length: insertMessages }, () => {
      const { body } = factory.next();
      const message = v.parse(GroupMessageSchema, JSON.parse(body));
      return {
        key: messageKey(messageIdentity(String(APP), message)),
        sdkAppId: String(APP),
        command: 'Group.CallbackAfterSendMsg',
        message,
        body,
        receivedAt: new Date(),
      };
    });
    for (const variant of round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()) {
      const archive = new PostgresArchive({ pool: variants[variant] });
      let next = 0;
      const t0 = performance.now();
      // As a worker with WORKER_CONCURRENCY=50: 50 stores in flight, batched into shared INSERTs.
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next < events.length) {
            const event = events[next++] as (typeof events)[number];
            await archive.store('group-message', event);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      await archive.close();
      inserts.push({ variant, perSecond: events.length / seconds });
      say(`  ${variant}: ${Math.round(events.length / seconds)} messages/s`);
    }
  }

  say(`queries: ${queryRuns} runs each, alternating archives ...`);
  const timings = new Map<string, Record<Variant, number[]>>();
  for (const query of QUERIES) {
    const times: Record<Variant, number[]> = { partitioned: [], unpartitioned: [] };
    for (let i = 0; i < queryRuns; i++) {
      const params = query.params(shape, i);
      for (const variant of i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        const t0 = performance.now();
        await variants[variant].query(query.sql, params);
        times[variant].push(performance.now() - t0);
      }
    }
    timings.set(query.name, times);
    say(`  ${query.name}: ${spread(times.partitioned, 2)} ms vs ${spread(times.unpartitioned, 2)} ms`);
  }
  const plans = new Map<string, string>();
  for (const query of QUERIES) {
    const { rows } = await variants.partitioned.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (COSTS OFF) ${query.sql}`,
      query.params(shape, 0),
    );
    plans.set(query.name, foldPlan(rows.map((row) => row['QUERY PLAN'])));
  }

  say('retention: dropping the oldest day against deleting it ...');
  const oldest = shape.start.toISOString();
  const dayRows = Number(
    (
      await variants.unpartitioned.query<{ n: string }>(
        `SELECT count(*) AS n FROM group_messages WHERE msg_time >= $1 AND msg_time < $1::timestamptz + interval '1 day'`,
        [oldest],
      )
    ).rows[0]?.n,
  );
  const t0 = performance.now();
  const report = await maintainArchive(variants.partitioned, {
    aheadDays: 0,
    retentionDays: days - 2,
    now: new Date(today),
  });
  const dropMs = performance.now() - t0;
  const t1 = performance.now();
  await bulk.unpartitioned.query(
    `DELETE FROM group_messages WHERE msg_time >= $1 AND msg_time < $1::timestamptz + interval '1 day'`,
    [oldest],
  );
  const deleteMs = performance.now() - t1;
  say(
    `  drop ${report.dropped.map((d) => d.partition).join(', ')}: ${dropMs.toFixed(0)} ms; delete: ${deleteMs.toFixed(0)} ms`,
  );

  const sizes: Record<Variant, string> = { partitioned: '', unpartitioned: '' };
  for (const variant of VARIANTS) {
    const { rows } = await variants[variant].query<{ size: string }>(
      `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size FROM pg_class c
       WHERE c.relkind = 'r' AND (c.relname = 'group_messages' OR c.relname LIKE 'group_messages_%')`,
    );
    sizes[variant] = rows[0]?.size ?? '?';
  }

  const ratio = (variant: Variant) => median(inserts.filter((r) => r.variant === variant).map((r) => r.perSecond));
  const perSecond = (variant: Variant) =>
    spread(
      inserts.filter((r) => r.variant === variant).map((r) => r.perSecond),
      0,
    );
  const pgVersion = (
    await variants.partitioned.query<{ version: string }>("SELECT split_part(version(), ' on ', 1) AS version")
  ).rows[0]?.version;
  const benchmarks = `## Archive at scale

Measured with \`pnpm bench:archive\` (\`bench/archive.ts\`) on ${new Date().toISOString().slice(0, 10)}${smoke ? ' (**smoke run: figures mean nothing**)' : ''}, in ${Math.round((Date.now() - started) / 1000)} s.
Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 1024 ** 3)} GiB; ${pgVersion}, fsync on, default settings.

Two archives on one private PostgreSQL, each holding the same ${shape.rows.toLocaleString('en')} generated group messages over
${days} days (${shape.groups} groups, ${COMMUNITIES} of them Communities with ${TOPICS} topics; ${shape.users.toLocaleString('en')} senders; a short text
body each): **partitioned** is the schema of migration 5 (a partition per day), **unpartitioned**
the baseline, the schema before it (one table). Loading them took ${(generation.partitioned / 1000).toFixed(0)} s and
${(generation.unpartitioned / 1000).toFixed(0)} s (\`INSERT … SELECT generate_series\`); on disk, tables and indexes: ${sizes.partitioned} and ${sizes.unpartitioned}.

**Insert rate** through the real archive writer (\`PostgresArchive\`, 50 stores in flight as a worker
with \`WORKER_CONCURRENCY=50\` has, batched into shared INSERTs), ${insertMessages.toLocaleString('en')} new simulator messages per
round into today's partition, ${insertRounds} rounds alternating the archives:

| | messages/s | |
|---|---|---|
| partitioned | ${perSecond('partitioned')} | **${(ratio('partitioned') / ratio('unpartitioned')).toFixed(2)}×** the baseline |
| unpartitioned (baseline) | ${perSecond('unpartitioned')} | |

**Queries** (README, "The archive at scale" shows each one with its plan): ${queryRuns} runs each with
different parameters, the same for both archives, alternating; milliseconds at the client, median (min–max).
The baseline lacks the indexes migration 5 adds (a sender's messages, a BRIN on the message time), so
those two rows compare the new schema as a whole, not partitioning alone:

| Question | partitioned | unpartitioned | ratio |
|---|---|---|---|
${QUERIES.map((query) => {
  const t = timings.get(query.name) as Record<Variant, number[]>;
  return `| ${query.question} | ${spread(t.partitioned, 2)} | ${spread(t.unpartitioned, 2)} | ${(median(t.partitioned) / median(t.unpartitioned)).toFixed(2)}× |`;
}).join('\n')}

**Retention**: one day (${dayRows.toLocaleString('en')} rows) goes in ${dropMs.toFixed(0)} ms as a dropped partition (a whole
maintenance pass, \`ARCHIVE_RETENTION_DAYS=${days - 2}\`), against ${(deleteMs / 1000).toFixed(1)} s for \`DELETE\` of the same rows from one
table, which also leaves ${dayRows.toLocaleString('en')} dead rows for VACUUM and the index bloat behind.
`;

  const readmePlans = `Plans on the partitioned archive of \`pnpm bench:archive\` (${shape.rows.toLocaleString('en')} messages over ${days} days, a partition a day; \`EXPLAIN (COSTS OFF)\`, the lines repeated once per partition folded into one). Times: BENCHMARKS.md, "Archive at scale".

${QUERIES.map((query) => {
  const t = timings.get(query.name) as Record<Variant, number[]>;
  return `**${query.question}** (median ${median(t.partitioned).toFixed(1)} ms):

\`\`\`sql
${query.sql}
\`\`\`

\`\`\`
${plans.get(query.name)}
\`\`\``;
}).join('\n\n')}`;

  await writeFile(values.benchmarks, withSection(readFileSync(values.benchmarks, 'utf8'), ARCHIVE_SECTION, benchmarks));
  const readme = values.readme ?? (smoke ? undefined : 'README.md');
  if (readme !== undefined) {
    await writeFile(readme, withSection(readFileSync(readme, 'utf8'), ARCHIVE_PLANS_SECTION, readmePlans));
  }
  say(`wrote ${values.benchmarks}${readme ? ` and ${readme}` : ''} in ${Math.round((Date.now() - started) / 1000)} s`);
} finally {
  await Promise.all([...Object.values(variants), ...Object.values(bulk)].map((pool) => pool.end()));
  await postgres.dispose();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
