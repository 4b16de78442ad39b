import { describe, expect, test } from 'vitest';
import { createQueueLayout } from './layout.js';

describe('queue layout', () => {
  test('one shard on one Redis: every queue where it always was', () => {
    const layout = createQueueLayout({ prefix: 'imsync', shards: 1, cluster: false });
    expect(layout.ingest).toEqual([{ name: 'group-messages', prefix: 'imsync' }]);
    expect(layout.consumed).toEqual([{ name: 'group-messages', prefix: 'imsync' }]);
    expect(layout.backfill).toEqual({ name: 'backfill', prefix: 'imsync' });
    expect(layout.delivery('crm')).toEqual({ name: 'deliver-crm', prefix: 'imsync' });
  });

  test('on a cluster every queue has a hash tag of its own, even with one shard', () => {
    const layout = createQueueLayout({ prefix: 'imsync', shards: 1, cluster: true });
    expect(layout.ingest).toEqual([{ name: 'group-messages-0', prefix: '{imsync-0}', shard: 0 }]);
    expect(layout.consumed).toEqual(layout.ingest);
    expect(layout.backfill.prefix).toBe('{imsync-backfill}');
    expect(layout.delivery('crm')).toEqual({ name: 'deliver-crm', prefix: '{imsync-deliver-crm}' });
  });

  test('a group stays in one shard, and groups spread over all of them', () => {
    const layout = createQueueLayout({ prefix: 'imsync', shards: 4, cluster: true });
    const of = (group: string) => layout.ingestFor('1600012345', group).shard;
    expect(of('@TGS#2QH7MZ4NE')).toBe(of('@TGS#2QH7MZ4NE'));
    const used = new Set(Array.from({ length: 200 }, (_, i) => of(`@TGS#group-${i}`)));
    expect([...used].sort()).toEqual([0, 1, 2, 3]);
    // The same group in another app is another key.
    const apps = new Set(Array.from({ length: 50 }, (_, i) => layout.ingestFor(`14000000${i}`, 'g').shard));
    expect(apps.size).toBeGreaterThan(1);
  });

  test('going up from one shard on one Redis: workers still read the unsharded queue until it is empty', () => {
    const layout = createQueueLayout({ prefix: 'imsync', shards: 2, cluster: false });
    expect(layout.ingest.map((q) => `${q.prefix}:${q.name}`)).toEqual([
      '{imsync-0}:group-messages-0',
      '{imsync-1}:group-messages-1',
    ]);
    expect(layout.consumed.map((q) => `${q.prefix}:${q.name}`)).toEqual([
      'imsync:group-messages',
      '{imsync-0}:group-messages-0',
      '{imsync-1}:group-messages-1',
    ]);
  });

  test('going down: the shards being drained are read too, never written', () => {
    const down = createQueueLayout({ prefix: 'imsync', shards: 2, drainShards: 4, cluster: true });
    expect(down.ingest.map((q) => q.shard)).toEqual([0, 1]);
    expect(down.consumed.map((q) => q.shard)).toEqual([0, 1, 2, 3]);
    const toOne = createQueueLayout({ prefix: 'imsync', shards: 1, drainShards: 2, cluster: false });
    expect(toOne.ingest).toEqual([{ name: 'group-messages', prefix: 'imsync' }]);
    expect(toOne.consumed.map((q) => q.name)).toEqual(['group-messages', 'group-messages-0', 'group-messages-1']);
  });
});
