import { loadFixture } from '@imsync/fixtures';
import { describe, expect } from 'vitest';
import {
  callbackCount,
  callbackUrl,
  expectRejection,
  jobCount,
  messageBody,
  OK_REPLY,
  openReceiver,
  test,
} from './support.js';

// Commands outside the catalog are acknowledged without enqueueing; every callback is counted by
// outcome, reason, app and command, and logged once, with the request id the client also gets as
// `x-request-id`.

const NEW_MEMBER = 'State.StateChange';
const newMemberBody = JSON.stringify({
  CallbackCommand: NEW_MEMBER,
  EventTime: 1767583321037,
  Info: { Action: 'Login', To_Account: 'lin.wei', Reason: 'Register' },
});

describe('other commands', () => {
  test('a signed State.StateChange (not in the catalog) is acknowledged, counted and not enqueued', async ({
    receiver,
  }) => {
    const res = await receiver.app.request(callbackUrl({ command: NEW_MEMBER }), {
      method: 'POST',
      body: newMemberBody,
    });
    expect({ status: res.status, text: await res.text() }).toEqual({ status: 200, text: OK_REPLY });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await jobCount(receiver.queue)).toBe(0);
    expect(await callbackCount(receiver.registry, 'other_command')).toBe(1);
    expect(await callbackCount(receiver.registry, 'accepted')).toBe(0);
    const text = await receiver.registry.getSingleMetricAsString('imsync_callbacks_received_total');
    expect(text).toContain(
      'imsync_callbacks_received_total{outcome="other_command",reason="",app="1600012345",command="other"} 1',
    );
  });

  test('an unsigned other command is still refused with 401', async ({ receiver }) => {
    const res = await receiver.app.request(callbackUrl({ command: NEW_MEMBER, token: undefined }), {
      method: 'POST',
      body: newMemberBody,
    });
    await expectRejection(res, 'signature_missing');
    expect(await callbackCount(receiver.registry, 'other_command')).toBe(0);
  });
});

test('accepted, other and rejected callbacks are counted with their reason', async ({ receiver }) => {
  const post = (url: string, body: string) => receiver.app.request(url, { method: 'POST', body });
  expect((await post(callbackUrl(), loadFixture('text-public').text)).status).toBe(200);
  expect((await post(callbackUrl(), loadFixture('face-work').text)).status).toBe(200);
  expect((await post(callbackUrl({ command: NEW_MEMBER }), newMemberBody)).status).toBe(200);
  expect((await post(callbackUrl({ sdkAppId: '1' }), messageBody())).status).toBe(403);
  expect((await post(callbackUrl(), '{')).status).toBe(400);
  expect((await post(callbackUrl(), messageBody({ MsgSeq: 'x' }))).status).toBe(422);
  expect((await post(callbackUrl(), messageBody({ Random: -1 }))).status).toBe(422);
  expect((await receiver.app.request(callbackUrl(), { method: 'GET' })).status).toBe(405);

  const counts = {
    accepted: await callbackCount(receiver.registry, 'accepted'),
    other_command: await callbackCount(receiver.registry, 'other_command'),
    wrong_app: await callbackCount(receiver.registry, 'rejected', 'wrong_app'),
    invalid_json: await callbackCount(receiver.registry, 'rejected', 'invalid_json'),
    schema: await callbackCount(receiver.registry, 'rejected', 'schema'),
    method_not_allowed: await callbackCount(receiver.registry, 'rejected', 'method_not_allowed'),
  };
  expect(counts).toEqual({
    accepted: 2,
    other_command: 1,
    wrong_app: 1,
    invalid_json: 1,
    schema: 2,
    method_not_allowed: 1,
  });
  // The ack-time histogram sees every callback too, by outcome.
  const histogram = await receiver.registry.getSingleMetricAsString('imsync_callback_ack_duration_seconds');
  expect(histogram).toContain('imsync_callback_ack_duration_seconds_count{outcome="accepted"} 2');
  expect(histogram).toContain('imsync_callback_ack_duration_seconds_count{outcome="rejected"} 5');
  // And the ops server's /metrics serves the same registry.
  const metrics = await (await receiver.ops.request('/metrics')).text();
  expect(metrics).toContain(
    'imsync_callbacks_received_total{outcome="rejected",reason="schema",app="1600012345",command="Group.CallbackAfterSendMsg"} 2',
  );
  // A stranger's SdkAppid never becomes a label value.
  expect(metrics).toContain(
    'imsync_callbacks_received_total{outcome="rejected",reason="wrong_app",app="",command=""} 1',
  );
});

describe('one log line per callback request', () => {
  test('an accepted callback logs requestId, status, durationMs, outcome and jobId', async ({ receiver }) => {
    const res = await receiver.app.request(callbackUrl(), { method: 'POST', body: loadFixture('text-public').text });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/\S/);
    const [job] = await receiver.queue.getJobs(['waiting']);
    expect(receiver.logLines.filter((line) => line.msg === 'callback')).toEqual([
      expect.objectContaining({
        level: 'info',
        requestId,
        status: 200,
        durationMs: expect.any(Number),
        outcome: 'accepted',
        jobId: job?.id,
      }),
    ]);
    expect(job?.data.requestId).toBe(requestId);
  });

  test('a rejected callback logs at warn with its reason, and only once', async ({ receiver }) => {
    const res = await receiver.app.request(callbackUrl({ sdkAppId: '1' }), { method: 'POST', body: messageBody() });
    expect(res.status).toBe(403);
    expect(receiver.logLines).toEqual([
      expect.objectContaining({
        msg: 'callback',
        level: 'warn',
        requestId: res.headers.get('x-request-id'),
        status: 403,
        durationMs: expect.any(Number),
        outcome: 'rejected',
        reason: 'wrong_app',
      }),
    ]);
  });

  test('each request gets its own id; a caller-supplied X-Request-Id is echoed and logged', async ({ receiver }) => {
    const post = (headers: Record<string, string> = {}) =>
      receiver.app.request(callbackUrl({ command: NEW_MEMBER }), { method: 'POST', body: newMemberBody, headers });
    const first = (await post()).headers.get('x-request-id');
    const second = (await post()).headers.get('x-request-id');
    const third = (await post({ 'x-request-id': 'tencent-trace-42' })).headers.get('x-request-id');
    expect(first).not.toBe(second);
    expect(third).toBe('tencent-trace-42');
    const lines = receiver.logLines.filter((line) => line.msg === 'callback');
    expect(lines.map((line) => line.requestId)).toEqual([first, second, third]);
    expect(lines.map((line) => line.outcome)).toEqual(['other_command', 'other_command', 'other_command']);
  });

  test('LOG_CALLBACKS=rejected logs refusals only, none logs no callback; both still count every callback', async ({
    redis,
  }) => {
    const lines = async (setting: 'rejected' | 'none') => {
      const receiver = await openReceiver(redis.url, { LOG_CALLBACKS: setting });
      const post = (url: string, body: string) => receiver.app.request(url, { method: 'POST', body });
      expect((await post(callbackUrl(), loadFixture('text-public').text)).status).toBe(200);
      expect((await post(callbackUrl({ command: NEW_MEMBER }), newMemberBody)).status).toBe(200);
      expect((await post(callbackUrl({ sdkAppId: '1' }), messageBody())).status).toBe(403);
      expect({
        accepted: await callbackCount(receiver.registry, 'accepted'),
        other: await callbackCount(receiver.registry, 'other_command'),
        rejected: await callbackCount(receiver.registry, 'rejected', 'wrong_app'),
      }).toEqual({ accepted: 1, other: 1, rejected: 1 });
      return receiver.logLines.filter((line) => line.msg === 'callback').map((line) => line.outcome);
    };
    expect(await lines('rejected')).toEqual(['rejected']);
    expect(await lines('none')).toEqual([]);
  });

  test('/healthz is neither logged nor counted as a callback', async ({ receiver }) => {
    const res = await receiver.app.request('/healthz', { headers: { 'x-request-id': 'probe-1' } });
    expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(res.headers.get('x-request-id')).toBe('probe-1');
    expect(receiver.logLines.filter((line) => line.msg === 'callback')).toEqual([]);
    expect(await callbackCount(receiver.registry, 'rejected', 'not_found')).toBe(0);
  });
});
