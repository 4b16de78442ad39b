import { loadCallbackFixtures, loadFixture } from '@imsync/fixtures';
import { CALLBACK_CATALOG, type JobKind } from '@imsync/protocol';
import { type Archive, type ArchivedEvent, PermanentSinkError, type StoreOutcome } from '@imsync/sinks';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, test } from 'vitest';
import type { DedupeStore } from '../dedupe.js';
import { processCallback } from './callback.js';

// The processor's rules, with an archive and a dedupe store in memory: what happens in which order.

const APP = '1600012345';

function setup(storeImpl?: (kind: JobKind, event: ArchivedEvent) => Promise<StoreOutcome>) {
  const steps: string[] = [];
  const marked = new Set<string>();
  const archive: Archive = {
    name: 'memory',
    async store(kind, event) {
      steps.push(`store ${kind} ${event.key}`);
      return storeImpl ? storeImpl(kind, event) : 'stored';
    },
    async close() {},
  };
  const dedupe: DedupeStore = {
    async seen(key) {
      steps.push(`seen? ${key}`);
      return marked.has(key);
    },
    async mark(key) {
      steps.push(`mark ${key}`);
      marked.add(key);
    },
  };
  return { steps, marked, deps: { sdkAppIds: new Set([APP]), archive, dedupe } };
}

const job = (body: string, command?: string) => ({ sdkAppId: APP, body, receivedAt: 1767583400000, command });
const TEXT = loadFixture('text-public').text;

test('the marker is written only after the archive committed, and then skips the archive', async () => {
  const { steps, deps } = setup();
  expect(await processCallback('group-message', job(TEXT), deps)).toBe('stored');
  expect(steps.map((step) => step.split(' ')[0])).toEqual(['seen?', 'store', 'mark']);
  expect(await processCallback('group-message', job(TEXT), deps)).toBe('duplicate');
  expect(steps.slice(3).map((step) => step.split(' ')[0])).toEqual(['seen?']);
});

test('a failed store writes no marker: the retry stores it', async () => {
  let fail = true;
  const { steps, marked, deps } = setup(async () => {
    if (fail) {
      throw new Error('connection terminated');
    }
    return 'stored';
  });
  await expect(processCallback('group-message', job(TEXT), deps)).rejects.toThrow('connection terminated');
  expect(marked.size).toBe(0);
  fail = false;
  expect(await processCallback('group-message', job(TEXT), deps)).toBe('stored');
  expect(steps.filter((step) => step.startsWith('store'))).toHaveLength(2);
});

test('a permanent archive error fails the job for good (no retries), a passing one is thrown as it is', async () => {
  const permanent = setup(async () => {
    throw new PermanentSinkError('value too long');
  });
  await expect(processCallback('group-message', job(TEXT), permanent.deps)).rejects.toBeInstanceOf(UnrecoverableError);
  expect(permanent.marked.size).toBe(0);
  const passing = setup(async () => {
    throw new Error('timeout');
  });
  const error = await processCallback('group-message', job(TEXT), passing.deps).catch((e: unknown) => e);
  expect(error).not.toBeInstanceOf(UnrecoverableError);
});

describe('jobs no retry can fix fail for good, before the archive is asked', () => {
  test.each([
    ['an app this worker does not serve', 'group-message', { ...job(TEXT), sdkAppId: '1400000001' }],
    ['data that is not a job', 'group-message', { sdkAppId: APP }],
    ['a body that is not JSON', 'group-message', job('{')],
    ['a body its schema refuses', 'group-message', job(TEXT.replace('"MsgSeq": 1842', '"MsgSeq": "1842"'))],
    ['a command of another kind', 'group-recall', job(TEXT, 'Group.CallbackAfterSendMsg')],
    [
      'a command outside the catalog',
      'group-event',
      job('{"CallbackCommand":"State.StateChange"}', 'State.StateChange'),
    ],
  ] as const)('%s', async (_what, kind, data) => {
    const { steps, deps } = setup();
    await expect(processCallback(kind, data, deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(steps).toEqual([]);
  });
});

test('every fixture of every command reaches the archive as its catalog kind, keyed by its catalog key', async () => {
  const { steps, deps } = setup();
  for (const fixture of loadCallbackFixtures()) {
    const kind = CALLBACK_CATALOG[fixture.command]?.job ?? 'group-message';
    expect(await processCallback(kind, job(fixture.text, fixture.command), deps)).toBe('stored');
  }
  expect(steps.filter((step) => step.startsWith('store group-event'))).toHaveLength(5);
  expect(new Set(steps.filter((step) => step.startsWith('mark'))).size).toBe(loadCallbackFixtures().length);
});
