import { Webhook } from 'standardwebhooks';

/** The three Standard Webhooks headers of one request. */
export interface SignatureHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/**
 * Signs payloads the Standard Webhooks way with every given secret (`whsec_` + base64): one
 * `v1,<base64 HMAC-SHA256>` per secret, space-separated in one `webhook-signature` header. A
 * receiver accepts the request when any of them matches one of its secrets, so during a rotation
 * both the old and the new secret are configured and neither side has to switch at the same
 * moment. The timestamp is the attempt's (receivers refuse stale ones), the id the event's.
 */
export function createSigner(secrets: readonly string[]): (id: string, at: Date, payload: string) => SignatureHeaders {
  if (secrets.length === 0) {
    throw new Error('at least one signing secret is required');
  }
  // Built once: the constructor decodes the secret, and throws on a bad one at start, not per event.
  const webhooks = secrets.map((secret) => new Webhook(secret));
  return (id, at, payload) => ({
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': webhooks.map((webhook) => webhook.sign(id, at, payload)).join(' '),
  });
}
