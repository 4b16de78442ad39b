import { loadCallbackFixtures } from '@imsync/fixtures';
import { SUPPORTED_COMMANDS } from '@imsync/protocol';
import { expect, test } from 'vitest';
import type { DeliveryEvent } from './destination.js';
import { buildEnvelope } from './envelope.js';

const event = (command: string, body: string): DeliveryEvent => ({
  id: 'gm-0123456789abcdef0123456789abcdef',
  key: 'gm-0123456789abcdef0123456789abcdef',
  command,
  sdkAppId: '1400000000',
  receivedAt: new Date('2026-12-01T08:30:00.123Z'),
  body,
});

test("every command's fixtures: valid JSON whose data is the body, with the body's text verbatim", () => {
  const fixtures = loadCallbackFixtures();
  expect(new Set(fixtures.map((f) => f.command))).toEqual(new Set(SUPPORTED_COMMANDS));
  for (const fixture of fixtures) {
    const text = buildEnvelope(event(fixture.command, fixture.text));
    const parsed = JSON.parse(text);
    expect(parsed).toEqual({
      type: fixture.command,
      id: 'gm-0123456789abcdef0123456789abcdef',
      key: 'gm-0123456789abcdef0123456789abcdef',
      sdkAppId: '1400000000',
      receivedAt: '2026-12-01T08:30:00.123Z',
      data: fixture.body,
    });
    expect(text).toContain(`"data":${fixture.text}`);
  }
});

test('data keeps what re-serialising would change: number spelling, big integers, key order, escapes', () => {
  const body =
    '{\n  "Z": 1.0,\n  "A": 12345678901234567890,\n  "Text": "a\\u00e9\\n\\u2028\\"q\\"",\n  "E": 1e3, "Raw": "\u2028"\n}';
  const text = buildEnvelope(event('Group.CallbackAfterSendMsg', body));
  expect(text.endsWith(`"data":${body}}`)).toBe(true);
  expect(JSON.parse(text).data).toEqual(JSON.parse(body));
  // A re-serialisation would have lost all of these.
  expect(JSON.stringify(JSON.parse(body))).not.toContain('1.0');
  expect(text).toContain('"Z": 1.0');
  expect(text).toContain('12345678901234567890');
});

test('identity fields are JSON-escaped (no injection through a command or an app id)', () => {
  const text = buildEnvelope({ ...event('x","data":1,"y":"', '{}'), sdkAppId: 'a"b' });
  expect(JSON.parse(text)).toMatchObject({ type: 'x","data":1,"y":"', sdkAppId: 'a"b', data: {} });
});
