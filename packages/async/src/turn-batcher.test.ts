import { expect, test } from 'vitest';
import { BatchItemError, createTurnBatcher } from './turn-batcher.js';

test('calls made in one turn share a batch, split at maxBatch; each gets its own outcome', async () => {
  const batches: number[][] = [];
  const batcher = createTurnBatcher<number, number>({
    maxBatch: 3,
    run: async (items) => {
      batches.push([...items]);
      return items.map((n) => (n === 4 ? new BatchItemError(new Error('four')) : n * 10));
    },
  });
  const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
  expect(batches).toEqual([
    [1, 2, 3],
    [4, 5],
  ]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
    10,
    20,
    30,
    'four',
    50,
  ]);
  // A later turn is a new batch.
  expect(await batcher.add(6)).toBe(60);
  expect(batches).toHaveLength(3);
});

test('a batch that throws fails all of its items; drain waits for batches in flight', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const batcher = createTurnBatcher<number, number>({
    maxBatch: 10,
    run: async () => {
      await gate;
      throw new Error('down');
    },
  });
  const added = [batcher.add(1), batcher.add(2)];
  let drained = false;
  const draining = batcher.drain().then(() => {
    drained = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  expect(drained).toBe(false);
  release();
  await draining;
  await expect(Promise.all(added)).rejects.toThrow('down');
});

test('with a window, calls of later turns within it join the batch; without, each turn is its own', async () => {
  const run = (windowMs: number) => {
    const batches: number[][] = [];
    const batcher = createTurnBatcher<number, number>({
      maxBatch: 100,
      windowMs,
      run: async (items) => {
        batches.push([...items]);
        return items;
      },
    });
    return { batches, batcher };
  };
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  for (const [windowMs, expected] of [
    [0, [[1], [2], [3]]],
    [200, [[1, 2, 3]]],
  ] as const) {
    const { batches, batcher } = run(windowMs);
    const results = [batcher.add(1)];
    await nextTurn();
    results.push(batcher.add(2));
    await nextTurn();
    results.push(batcher.add(3));
    expect(await Promise.all(results)).toEqual([1, 2, 3]);
    expect(batches).toEqual(expected);
  }
});
