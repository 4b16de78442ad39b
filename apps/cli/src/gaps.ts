import { parseArgs } from 'node:util';
import { createPool, createSequenceStore } from '@imsync/sinks';
import { UsageError } from './send.js';

const HELP = `imsync gaps: the holes in group message sequences that are still open

  --json    print them as JSON

A hole is a run of MsgSeq the archive lacks, past the grace period (GAP_GRACE_SECONDS). Workers
with admin credentials backfill holes from Tencent's group history and close them; this lists what
is still open, oldest first, per group (and topic). Needs DATABASE_URL.
`;

/** `pnpm imsync gaps`: the open holes per group, oldest first. */
export async function gaps(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    throw new UsageError('needs DATABASE_URL (the archive)');
  }
  const pool = createPool({ connectionString: databaseUrl, max: 1, onIdleError: () => {} });
  try {
    const holes = await createSequenceStore(pool).openHoles();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(holes, null, 2)}\n`);
      return 0;
    }
    if (holes.length === 0) {
      process.stdout.write('no open holes\n');
      return 0;
    }
    const groups = new Map<string, typeof holes>();
    for (const hole of holes) {
      const name = `${hole.sdkAppId} ${hole.groupId}${hole.topicId ? ` / ${hole.topicId}` : ''}`;
      groups.set(name, [...(groups.get(name) ?? []), hole]);
    }
    const now = Date.now();
    for (const [name, list] of groups) {
      const missing = list.reduce((sum, hole) => sum + hole.toSeq - hole.fromSeq + 1, 0);
      process.stdout.write(`${name}: ${list.length} open hole(s), ${missing} seq(s)\n`);
      for (const hole of list) {
        const age = Math.round((now - hole.foundAt.getTime()) / 1000);
        process.stdout.write(`  MsgSeq ${hole.fromSeq}–${hole.toSeq}, found ${age} s ago\n`);
      }
    }
    return 0;
  } finally {
    await pool.end();
  }
}
