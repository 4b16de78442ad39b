import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCallbackFixtures } from '@imsync/fixtures';
import { ConfigError } from '@imsync/runtime';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createDestinations, type DeliveryEvent, loadDestinationModule, loadDestinationsConfig } from '../src/index.js';

const EXAMPLE = fileURLToPath(new URL('../examples/ndjson-file.js', import.meta.url));

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imsync-ndjson-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const events: DeliveryEvent[] = loadCallbackFixtures().map((fixture, n) => ({
  id: `ev-${n}`,
  key: `ev-${n}`,
  command: fixture.command,
  sdkAppId: '1400000000',
  receivedAt: new Date(Date.UTC(2026, 11, 1, 8, 30, n)),
  // Pretty-printed on purpose: a body spanning lines still makes one line.
  body: n === 0 ? JSON.stringify(fixture.body, null, 2) : fixture.text,
}));

test('the example appends one line per event, delivered once written; close closes the file', async () => {
  const path = join(dir, 'events.ndjson');
  await writeFile(path, '{"earlier":true}\n');
  const destination = await loadDestinationModule(EXAMPLE, { name: 'files', options: { path } });
  expect(destination.name).toBe('files');
  const signal = new AbortController().signal;
  // All at once, as a delivery worker with some concurrency would: lines never interleave.
  const outcomes = await Promise.all(events.map((event) => destination.deliver(event, signal)));
  expect(outcomes.every((outcome) => outcome.kind === 'delivered')).toBe(true);
  await destination.close?.();

  const lines = (await readFile(path, 'utf8')).split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.shift()).toBe('{"earlier":true}');
  expect(lines.map((line) => JSON.parse(line))).toEqual(
    events.map((event) => ({
      id: event.id,
      key: event.key,
      type: event.command,
      sdkAppId: '1400000000',
      receivedAt: event.receivedAt.toISOString(),
      body: event.body,
    })),
  );
  // After close, a delivery fails (and the caller retries it): the file is not reopened behind its back.
  await expect(destination.deliver(events[0] as DeliveryEvent, signal)).resolves.toMatchObject({ kind: 'retry' });
});

test('through the config: a module path relative to the config file, options passed through', async () => {
  const config = join(dir, 'sinks.json');
  const out = join(dir, 'out.ndjson');
  await writeFile(join(dir, 'ndjson-file.js'), await readFile(EXAMPLE));
  await writeFile(
    config,
    JSON.stringify({
      destinations: [
        {
          name: 'files',
          type: 'module',
          module: './ndjson-file.js',
          options: { path: out },
          commands: [events[1]?.command],
        },
      ],
    }),
  );
  const [destination, ...others] = await createDestinations(loadDestinationsConfig({ IMSYNC_SINKS_FILE: config }));
  expect(others).toEqual([]);
  expect(destination?.commands).toEqual(new Set([events[1]?.command]));
  await destination?.deliver(events[1] as DeliveryEvent, new AbortController().signal);
  await destination?.close?.();
  expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ id: 'ev-1', body: events[1]?.body });
});

test('bad options stop the start with a readable error', async () => {
  await expect(loadDestinationModule(EXAMPLE, { name: 'files', options: {} })).rejects.toThrow(
    new ConfigError(
      `destination files: module ${EXAMPLE}: createDestination failed: options.path must be the file to append to`,
    ),
  );
});
