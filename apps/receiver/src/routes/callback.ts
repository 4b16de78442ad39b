import {
  CallbackEnvelopeSchema,
  decodeJsonBody,
  formatIssues,
  GROUP_AFTER_SEND_MSG,
  GroupMessageSchema,
  messageIdentity,
  messageKey,
  OK_REPLY_TEXT,
  type SignatureVerifier,
} from '@imsync/protocol';
import type { GroupMessageProducer } from '@imsync/queue';
import type { Context, Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../app-env.js';
import { readBody, refuseUnreadBody, unreadBudget } from '../body.js';
import { Rejection } from '../errors.js';

export interface CallbackRouteOptions {
  path: string;
  sdkAppId: string;
  bodyLimitBytes: number;
  maxJsonDepth: number;
  /** Absent only with TIM_CALLBACK_AUTH=off: requests are then not signature-checked. */
  verifySignature: SignatureVerifier | undefined;
  producer: GroupMessageProducer;
  clock: () => number;
}

const OK_HEADERS = { 'content-type': 'application/json' };

/**
 * `POST <path>`: the IM backend's callback. Checks run in a fixed order (method, app, signature,
 * size, JSON, command, schema) and the first failure answers. Whatever the query alone decides is
 * decided before a byte of the body is read, so an unauthenticated caller costs no body buffer.
 * Only a valid group message reaches the queue, and the 200 is sent once Redis holds it.
 */
export function registerCallbackRoute(app: Hono<AppEnv>, options: CallbackRouteOptions): void {
  const unread = unreadBudget(options.bodyLimitBytes);
  app.all(options.path, async (c) => {
    const query = c.req.query();
    const refusal = checkRequestLine(c.req.method, query, options);
    if (refusal) {
      refuseUnreadBody(c, unread);
      throw refusal;
    }
    const body = await readBody(c, options.bodyLimitBytes);
    if (!body.ok) {
      throw body.reason === 'too_large'
        ? new Rejection('body_too_large', `body larger than ${options.bodyLimitBytes} bytes`)
        : new Rejection('body_incomplete', 'request body ended early');
    }

    const decoded = decodeJsonBody(body.bytes, options.maxJsonDepth);
    if (!decoded.ok) {
      throw new Rejection(decodeReason[decoded.reason], decoded.detail);
    }
    const envelope = v.safeParse(CallbackEnvelopeSchema, decoded.value);
    const command = envelope.success ? envelope.output.CallbackCommand : undefined;
    if (command === undefined || command !== query.CallbackCommand) {
      throw new Rejection('command_mismatch', 'CallbackCommand missing or different in query and body');
    }
    if (command !== GROUP_AFTER_SEND_MSG) {
      c.set('outcome', 'other_command');
      return c.body(OK_REPLY_TEXT, 200, OK_HEADERS);
    }

    const parsed = v.safeParse(GroupMessageSchema, decoded.value);
    if (!parsed.success) {
      throw new Rejection('schema', formatIssues(parsed.issues));
    }
    const sdkAppId = options.sdkAppId;
    await enqueue(c, options, sdkAppId, decoded.text, parsed.output);
    c.set('outcome', 'accepted');
    return c.body(OK_REPLY_TEXT, 200, OK_HEADERS);
  });
}

/** The refusal the method and query alone call for (method, then app, then signature), if any. */
function checkRequestLine(
  method: string,
  query: Record<string, string>,
  options: CallbackRouteOptions,
): Rejection | undefined {
  if (method !== 'POST') {
    return new Rejection('method_not_allowed', 'method not allowed; use POST', { allow: 'POST' });
  }
  if (query.SdkAppid !== options.sdkAppId) {
    return new Rejection('wrong_app', 'SdkAppid does not match this app');
  }
  if (options.verifySignature) {
    const signature = options.verifySignature(query.Sign, query.RequestTime);
    if (!signature.ok) {
      return new Rejection(`signature_${signature.reason}`, signatureMessage[signature.reason]);
    }
  }
  return undefined;
}

async function enqueue(
  c: Context<AppEnv>,
  options: CallbackRouteOptions,
  sdkAppId: string,
  body: string,
  message: v.InferOutput<typeof GroupMessageSchema>,
): Promise<void> {
  const jobId = messageKey(messageIdentity(sdkAppId, message));
  c.set('jobId', jobId);
  try {
    await options.producer.enqueue(
      { sdkAppId, body, receivedAt: options.clock(), requestId: c.get('requestId') },
      jobId,
    );
  } catch (error) {
    throw new Rejection('queue_unavailable', 'queue unavailable; not stored', {}, { cause: error });
  }
}

const signatureMessage = {
  missing: 'Sign and RequestTime are required',
  malformed: 'Sign or RequestTime malformed',
  stale: 'RequestTime outside the allowed window',
  mismatch: 'Sign does not match',
} as const;

const decodeReason = {
  encoding: 'invalid_encoding',
  depth: 'json_too_deep',
  syntax: 'invalid_json',
  forbidden_key: 'forbidden_key',
} as const;
