import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@imsync/runtime';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDestinations, type DeliveryEvent, loadDestinationModule } from './index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imsync-modules-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a module into the test's folder and returns its path. */
async function moduleFile(name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

const event: DeliveryEvent = {
  id: 'gm-1',
  key: 'gm-1',
  command: 'Group.CallbackAfterSendMsg',
  sdkAppId: '1400000000',
  receivedAt: new Date('2026-12-01T00:00:00Z'),
  body: '{}',
};

test('a module gets its options and name; the destination takes the configured name and commands', async () => {
  const path = await moduleFile(
    'echo.mjs',
    `export function createDestination(options, { name }) {
       return { name: 'whatever', commands: new Set(['C2C.CallbackAfterSendMsg']), seen: [],
         async deliver(event) { return { kind: 'delivered', status: options.status, echo: name + ':' + event.key }; } };
     }`,
  );
  const configured = await loadDestinationModule(path, {
    name: 'echo',
    options: { status: 299 },
    commands: new Set(['Group.CallbackAfterSendMsg']),
  });
  expect(configured.name).toBe('echo');
  expect(configured.commands).toEqual(new Set(['Group.CallbackAfterSendMsg']));
  expect(await configured.deliver(event, new AbortController().signal)).toEqual({
    kind: 'delivered',
    status: 299,
    echo: 'echo:gm-1',
  });
  // Without a configured subscription, the module's own stands.
  const own = await loadDestinationModule(path, { name: 'echo' });
  expect(own.commands).toEqual(new Set(['C2C.CallbackAfterSendMsg']));
  expect(own.close).toBeUndefined();
});

test('clear errors: missing file, import failure, wrong export, factory failure, not a destination', async () => {
  const fails = (path: string) => loadDestinationModule(path, { name: 'x' });
  await expect(fails(join(dir, 'missing.mjs'))).rejects.toThrow(
    new ConfigError(`destination x: module ${join(dir, 'missing.mjs')} not found`),
  );
  await expect(fails(dir)).rejects.toThrow('not found');
  const broken = await moduleFile('broken.mjs', 'throw new Error("top-level boom");');
  await expect(fails(broken)).rejects.toThrow(`destination x: module ${broken} cannot be imported: top-level boom`);
  const syntax = await moduleFile('syntax.mjs', 'export function (');
  await expect(fails(syntax)).rejects.toThrow('cannot be imported');
  const none = await moduleFile('none.mjs', 'export const createDestinations = () => ({});');
  await expect(fails(none)).rejects.toThrow(
    `destination x: module ${none} must export a function createDestination(options, { name })`,
  );
  const byDefault = await moduleFile('default.mjs', 'export default function createDestination() {}');
  await expect(fails(byDefault)).rejects.toThrow('(it has a default export: export it by name)');
  const throwing = await moduleFile(
    'throwing.mjs',
    'export async function createDestination() { throw new Error("options.path is required"); }',
  );
  await expect(fails(throwing)).rejects.toThrow('createDestination failed: options.path is required');
  const wrong = await moduleFile('wrong.mjs', 'export function createDestination() { return { name: "x" }; }');
  await expect(fails(wrong)).rejects.toThrow('createDestination must return an object with a deliver(event, signal)');
  await expect(fails(wrong)).rejects.toBeInstanceOf(ConfigError);
});

test("the module's mistakes become retry outcomes: a throw, an invalid outcome, no answer in time", async () => {
  const path = await moduleFile(
    'moody.mjs',
    `export const aborted = [];
     let closed = 0;
     export const closes = () => closed;
     export function createDestination(options) {
       return {
         name: 'moody',
         async deliver(event, signal) {
           signal.addEventListener('abort', () => aborted.push(event.key));
           if (options.mode === 'throw') throw new Error('disk full');
           if (options.mode === 'invalid') return { kind: 'done' };
           if (options.mode === 'hang') return new Promise(() => {});
           if (options.mode === 'later') return { kind: 'retry', reason: 'busy', retryAfterMs: 1e12 };
           if (options.mode === 'soon') return { kind: 'retry', reason: 'busy', retryAfterMs: 0 };
           if (options.mode === 'nan') return { kind: 'retry', reason: 'busy', retryAfterMs: NaN };
           return { kind: 'gone', reason: 'asked to stop' };
         },
         async close() { closed += 1; },
       };
     }`,
  );
  const signal = new AbortController().signal;
  const moody = async (mode: string, timeoutMs?: number) =>
    (await loadDestinationModule(path, { name: 'moody', options: { mode }, timeoutMs })).deliver(event, signal);
  expect(await moody('throw')).toEqual({ kind: 'retry', reason: 'the module threw: disk full' });
  expect(await moody('invalid')).toEqual({ kind: 'retry', reason: 'the module returned no valid outcome' });
  expect(await moody('hang', 50)).toEqual({ kind: 'retry', reason: 'timed out after 50 ms' });
  expect(await moody('ok')).toEqual({ kind: 'gone', reason: 'asked to stop' });
  // A free wait is bounded as an HTTP Retry-After is.
  expect(await moody('later')).toEqual({ kind: 'retry', reason: 'busy', retryAfterMs: 3_600_000 });
  expect(await moody('soon')).toEqual({ kind: 'retry', reason: 'busy', retryAfterMs: 1000 });
  expect(await moody('nan')).toEqual({ kind: 'retry', reason: 'busy' });
  const loaded = (await import(path)) as { aborted: string[]; closes: () => number };
  expect(loaded.aborted).toEqual(['gm-1']); // the hung one
  // The caller's signal reaches the module; close goes through.
  const destination = await loadDestinationModule(path, { name: 'moody', options: { mode: 'hang' } });
  const caller = new AbortController();
  const pending = destination.deliver({ ...event, key: 'gm-2' }, caller.signal);
  caller.abort(new Error('shutting down'));
  expect(loaded.aborted).toEqual(['gm-1', 'gm-2']);
  // Answered for the module, which never answers.
  expect(await pending).toEqual({ kind: 'retry', reason: 'aborted' });
  expect(await destination.deliver(event, caller.signal)).toEqual({
    kind: 'retry',
    reason: 'aborted before delivering',
  });
  await destination.close?.();
  expect(loaded.closes()).toBe(1);
});

test('createDestinations builds each of a config; a failed start closes those already made', async () => {
  const closable = await moduleFile(
    'closable.mjs',
    `export const log = [];
     export function createDestination(options, { name }) {
       return { name, async deliver() { return { kind: 'delivered' }; }, async close() { log.push('closed ' + name); } };
     }`,
  );
  const common = { timeoutMs: 1000, retrySchedule: [0] };
  const http = {
    ...common,
    type: 'http',
    name: 'hook',
    url: 'https://hooks.example.com/',
    secrets: [`whsec_${Buffer.alloc(32, 1).toString('base64')}`],
    commands: new Set(['C2C.CallbackAfterSendMsg']),
  } as const;
  const made = await createDestinations([
    http,
    { ...common, type: 'module', name: 'one', module: closable, options: {} },
  ]);
  expect(made.map((destination) => [destination.name, destination.commands])).toEqual([
    ['hook', new Set(['C2C.CallbackAfterSendMsg'])],
    ['one', undefined],
  ]);
  const { log } = (await import(closable)) as { log: string[] };
  await expect(
    createDestinations([
      http,
      { ...common, type: 'module', name: 'two', module: closable, options: {} },
      { ...common, type: 'module', name: 'three', module: join(dir, 'missing.mjs'), options: {} },
    ]),
  ).rejects.toThrow('destination three: module');
  expect(log).toEqual(['closed two']);
});
