import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeSign, GROUP_AFTER_MEMBER_EXIT, SUPPORTED_COMMANDS } from '@imsync/protocol';
import { expect, test } from 'vitest';
import { runLoad } from './load.js';

interface Received {
  query: URLSearchParams;
  body: string;
}

/** A callback endpoint on a free port that records every request and answers as `answer` says. */
async function endpoint(answer: (request: Received) => number) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        query: new URL(req.url ?? '', 'http://x').searchParams,
        body: Buffer.concat(chunks).toString(),
      };
      received.push(request);
      res.writeHead(answer(request)).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/im/callback`, received, close: () => void server.close() };
}

const TOKENS = new Map([
  ['1400000001', ['tokA']],
  ['1400000002', ['tokB-old', 'tokB-new']],
]);

test('each body goes with its own command in the query and its own app, signed with that app’s token', async ({
  onTestFinished,
}) => {
  const server = await endpoint((request) =>
    request.query.get('CallbackCommand') === GROUP_AFTER_MEMBER_EXIT ? 503 : 200,
  );
  onTestFinished(server.close);
  const summary = await runLoad({
    url: server.url,
    apps: TOKENS,
    commands: SUPPORTED_COMMANDS,
    count: 400,
    rate: 0,
    concurrency: 8,
    duplicateRatio: 0.25,
    seed: 21,
  });

  expect(server.received).toHaveLength(500);
  const bodies = new Map<string, string>();
  for (const { query, body } of server.received) {
    const parsed = JSON.parse(body) as { CallbackCommand: string };
    expect(query.get('CallbackCommand')).toBe(parsed.CallbackCommand);
    const app = query.get('SdkAppid') ?? '';
    const time = Number(query.get('RequestTime'));
    const tokens = TOKENS.get(app) ?? [];
    expect(tokens.some((token) => computeSign(token, time) === query.get('Sign'))).toBe(true);
    // A repeat is the same body, for the same app.
    expect(bodies.get(body) ?? app).toBe(app);
    bodies.set(body, app);
  }
  expect(new Set(server.received.map(({ query }) => query.get('SdkAppid')))).toEqual(new Set(TOKENS.keys()));
  expect(bodies.size).toBe(400);

  expect(summary).toMatchObject({ sent: 500, duplicatesSent: 100 });
  expect(Object.keys(summary.sentByCommand).sort()).toEqual([...SUPPORTED_COMMANDS].sort());
  expect(Object.values(summary.sentByCommand).reduce((sum, n) => sum + n, 0)).toBe(400);
  expect(Object.values(summary.earlyRecalls).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
  expect(summary.sentEvents).toHaveLength(400);
  // What the endpoint refused is sent but not acknowledged.
  const refused = summary.sentEvents.filter(
    (ref) => ref.kind === 'group-event' && ref.command === GROUP_AFTER_MEMBER_EXIT,
  );
  expect(refused.length).toBeGreaterThan(0);
  expect(summary.acknowledgedEvents).toHaveLength(400 - refused.length);
  expect(summary.acknowledgedEvents).not.toContain(refused[0]);
  expect(summary.acknowledgedMessages).toEqual(
    summary.acknowledgedEvents.filter((ref) => ref.kind === 'group-message'),
  );
});

test('one app by sdkAppId and token, group messages only, as before', async ({ onTestFinished }) => {
  const server = await endpoint(() => 200);
  onTestFinished(server.close);
  const acknowledged: string[] = [];
  const summary = await runLoad({
    url: server.url,
    sdkAppId: '1600012345',
    token: 'tok',
    count: 50,
    rate: 0,
    concurrency: 4,
    onResult: (result) => acknowledged.push(result.message.identity.groupId),
  });
  expect(acknowledged).toHaveLength(50);
  expect(summary.acknowledgedMessages).toHaveLength(50);
  for (const { query } of server.received) {
    expect([query.get('SdkAppid'), query.get('CallbackCommand')]).toEqual(['1600012345', 'Group.CallbackAfterSendMsg']);
    expect(query.get('Sign')).toBe(computeSign('tok', Number(query.get('RequestTime'))));
  }
});
