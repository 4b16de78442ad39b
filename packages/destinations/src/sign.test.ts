import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { expect, test } from 'vitest';
import { createSigner } from './sign.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

test('signed with two secrets (a rotation): each verifies on its own, a third does not', () => {
  const [oldSecret, newSecret, other] = [secret(), secret(), secret()];
  const payload = '{"type":"Group.CallbackAfterSendMsg","data":{"A":1.0}}';
  const now = new Date();
  const headers = createSigner([oldSecret, newSecret])('gm-abc', now, payload);
  expect(headers['webhook-id']).toBe('gm-abc');
  expect(headers['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
  expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
  for (const key of [oldSecret, newSecret]) {
    expect(new Webhook(key).verify(payload, { ...headers })).toEqual({
      type: 'Group.CallbackAfterSendMsg',
      data: { A: 1 },
    });
  }
  expect(() => new Webhook(other).verify(payload, { ...headers })).toThrow('No matching signature');
  // The signature covers the id and the payload.
  expect(() => new Webhook(oldSecret).verify(payload, { ...headers, 'webhook-id': 'gm-abd' })).toThrow();
  expect(() => new Webhook(oldSecret).verify(`${payload} `, { ...headers })).toThrow();
});

test('no secret is refused at creation', () => {
  expect(() => createSigner([])).toThrow('at least one signing secret');
});
