import { loadCallbackFixtures, loadFixture, loadFixtures } from '@imsync/fixtures';
import { CALLBACK_CATALOG, messageKey } from '@imsync/protocol';
import { describe, expect } from 'vitest';
import {
  allJobs,
  callbackCount,
  callbackUrl,
  jobCount,
  messageBody,
  OK_REPLY,
  openReceiver,
  SDK_APP_ID,
  TOKEN,
  test,
} from './support.js';

// What Tencent sees on success (a 200 with the exact OK reply) and what the workers get (the body
// text unchanged, keyed by the message identity so redeliveries collapse into one job).

async function expectOk(res: Response): Promise<void> {
  expect({ status: res.status, text: await res.text() }).toEqual({ status: 200, text: OK_REPLY });
  expect(res.headers.get('content-type')).toBe('application/json');
}

describe('every fixture', () => {
  test.for(loadFixtures().map((fixture) => [fixture.name, fixture] as const))(
    '%s is acknowledged and enqueued unchanged',
    async ([, fixture], { receiver }) => {
      const before = Date.now();
      const res = await receiver.app.request(callbackUrl(), { method: 'POST', body: fixture.text });
      await expectOk(res);

      const jobs = await allJobs(receiver.queue);
      expect(jobs).toHaveLength(1);
      const [job] = jobs;
      expect(job?.data.body).toBe(fixture.text);
      expect(job?.data.sdkAppId).toBe(SDK_APP_ID);
      expect(job?.data.receivedAt).toBeGreaterThanOrEqual(before);
      expect(job?.data.requestId).toBe(res.headers.get('x-request-id'));
      // The id is derived from the message identity (spec §6), so a redelivery maps to the same job.
      const body = fixture.body as { GroupId: string; TopicId?: string; MsgSeq: number; Random: number };
      const key = messageKey({
        sdkAppId: SDK_APP_ID,
        groupId: body.GroupId,
        topicId: body.TopicId ?? '',
        msgSeq: body.MsgSeq,
        random: body.Random,
      });
      expect(job?.id).toBe(key);
      expect(job?.id?.startsWith('gm-')).toBe(true);
    },
  );
});

test('the same message posted twice is acknowledged twice and stored once', async ({ receiver }) => {
  const fixture = loadFixture('multi-elem');
  for (let i = 0; i < 2; i++) {
    await expectOk(await receiver.app.request(callbackUrl(), { method: 'POST', body: fixture.text }));
  }
  const jobs = await allJobs(receiver.queue);
  expect(jobs.map((job) => job.data.body)).toEqual([fixture.text]);
});

test('a redelivery with different bytes but the same identity keeps the first body', async ({ receiver }) => {
  const fixture = loadFixture('text-public');
  const reformatted = JSON.stringify(fixture.body);
  expect(reformatted).not.toBe(fixture.text);
  await expectOk(await receiver.app.request(callbackUrl(), { method: 'POST', body: fixture.text }));
  await expectOk(await receiver.app.request(callbackUrl(), { method: 'POST', body: reformatted }));
  expect((await allJobs(receiver.queue)).map((job) => job.data.body)).toEqual([fixture.text]);
});

test('the same MsgSeq in two topics of one group is two messages', async ({ receiver }) => {
  const fixture = loadFixture('image-community-topic');
  const otherTopic = JSON.stringify({ ...fixture.body, TopicId: `${String(fixture.body.TopicId)}x` });
  await expectOk(await receiver.app.request(callbackUrl(), { method: 'POST', body: fixture.text }));
  await expectOk(await receiver.app.request(callbackUrl(), { method: 'POST', body: otherTopic }));
  expect(await jobCount(receiver.queue)).toBe(2);
});

describe('the raw body is parsed whatever the Content-Type says', () => {
  const cases: [string, Record<string, string>][] = [
    ['absent', {}],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/x-www-form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['application/json; charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }],
  ];
  test.for(cases)('Content-Type %s', async ([, headers], { receiver }) => {
    const fixture = loadFixture('text-unicode-emoji');
    const body = new TextEncoder().encode(fixture.text);
    const request = new Request(callbackUrl(), { method: 'POST', body, headers });
    // A Uint8Array body gets no Content-Type of its own: the header is exactly the one under test.
    expect(request.headers.get('content-type')).toBe(headers['content-type'] ?? null);
    await expectOk(await receiver.app.request(request));
    expect((await allJobs(receiver.queue)).map((job) => job.data.body)).toEqual([fixture.text]);
  });
});

test('with TIM_CALLBACK_AUTH=off an unsigned callback is accepted', async ({ redis }) => {
  const receiver = await openReceiver(redis.url, { TIM_CALLBACK_AUTH: 'off' });
  const fixture = loadFixture('admin-restapi-send');
  const url = callbackUrl({ token: undefined, optPlatform: 'RESTAPI' });
  expect(new URL(url).searchParams.has('Sign')).toBe(false);
  await expectOk(await receiver.app.request(url, { method: 'POST', body: fixture.text }));
  expect((await allJobs(receiver.queue)).map((job) => job.data.body)).toEqual([fixture.text]);
});

test('the signature window is ±60 s inclusive, measured on the injected clock', async ({ redis }) => {
  const now = 1_767_225_600_000;
  const receiver = await openReceiver(redis.url, { clock: () => now });
  const past = callbackUrl({ requestTime: now / 1000 - 60 });
  const future = callbackUrl({ requestTime: now / 1000 + 60 });
  await expectOk(await receiver.app.request(past, { method: 'POST', body: messageBody({ MsgSeq: 1 }) }));
  await expectOk(await receiver.app.request(future, { method: 'POST', body: messageBody({ MsgSeq: 2 }) }));
  const jobs = await allJobs(receiver.queue);
  expect(jobs.map((job) => job.data.receivedAt)).toEqual([now, now]);
});

test('identity fields at the edges of their range are accepted', async ({ receiver }) => {
  const body = messageBody({ MsgSeq: 0, Random: 4_294_967_295 });
  await expectOk(await receiver.app.request(callbackUrl(), { method: 'POST', body }));
  expect((await allJobs(receiver.queue)).map((job) => job.data.body)).toEqual([body]);
});

test('every catalog command is queued as its own kind of job, keyed by its catalog key', async ({ receiver }) => {
  for (const fixture of loadCallbackFixtures()) {
    const res = await receiver.app.request(callbackUrl({ command: fixture.command }), {
      method: 'POST',
      body: fixture.text,
    });
    expect(res.status, fixture.name).toBe(200);
  }
  const jobs = await allJobs(receiver.queue);
  expect(jobs).toHaveLength(loadCallbackFixtures().length);
  for (const job of jobs) {
    const definition = CALLBACK_CATALOG[job.data.command ?? ''];
    expect(job.name).toBe(definition?.job);
    expect(job.id).toMatch(/^(gm|gr|cm|cw|ge)-/);
  }
});

test('TIM_COMMANDS stores only the commands it lists; the others are acknowledged and not queued', async ({
  redis,
}) => {
  const receiver = await openReceiver(redis.url, { TIM_COMMANDS: new Set(['Group.CallbackAfterSendMsg']) });
  const recall = loadCallbackFixtures('Group.CallbackAfterRecallMsg')[0];
  const res = await receiver.app.request(callbackUrl({ command: recall?.command }), {
    method: 'POST',
    body: recall?.text,
  });
  expect({ status: res.status, text: await res.text() }).toEqual({ status: 200, text: OK_REPLY });
  await expectOk(await receiver.app.request(callbackUrl(), { method: 'POST', body: loadFixture('text-public').text }));
  expect((await allJobs(receiver.queue)).map((job) => job.name)).toEqual(['group-message']);
  expect(await callbackCount(receiver.registry, 'other_command')).toBe(1);
});

test('several apps: each is signed with its own tokens (two while rotating); a stranger app is refused', async ({
  redis,
}) => {
  const receiver = await openReceiver(redis.url, {
    apps: new Map([
      [SDK_APP_ID, [TOKEN, 'rotated-in-token']],
      ['1400000001', ['second-app-token']],
    ]),
  });
  const post = (sdkAppId: string, token: string) =>
    receiver.app.request(callbackUrl({ sdkAppId, token }), { method: 'POST', body: loadFixture('text-public').text });
  expect((await post(SDK_APP_ID, TOKEN)).status).toBe(200);
  expect((await post(SDK_APP_ID, 'rotated-in-token')).status).toBe(200);
  expect((await post('1400000001', 'second-app-token')).status).toBe(200);
  expect((await post('1400000001', TOKEN)).status).toBe(401);
  expect((await post(SDK_APP_ID, 'second-app-token')).status).toBe(401);
  expect((await post('1400000002', TOKEN)).status).toBe(403);
  // The same message of two apps is two messages.
  expect((await allJobs(receiver.queue)).map((job) => job.data.sdkAppId).sort()).toEqual(['1400000001', SDK_APP_ID]);
});
