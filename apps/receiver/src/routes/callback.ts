import {
  CALLBACK_CATALOG,
  type CallbackDefinition,
  callbackCommandOf,
  decodeJsonBody,
  formatIssues,
  OK_REPLY_TEXT,
  parseCallback,
  routeKeyOf,
  type SignatureVerifier,
} from '@imsync/protocol';
import type { Producer } from '@imsync/queue';
import { currentTraceparent, inSpan, SpanKind } from '@imsync/tracing';
import type { Hono } from 'hono';
import type { AppEnv } from '../app-env.js';
import { readBody, refuseUnreadBody, unreadBudget } from '../body.js';
import { Rejection } from '../errors.js';
import { okReply } from '../request-id.js';

export interface CallbackRouteOptions {
  path: string;
  /**
   * Every served SDKAppID and the signature check of its tokens (`undefined` only with
   * TIM_CALLBACK_AUTH=off: requests are then not signature-checked).
   */
  apps: ReadonlyMap<string, SignatureVerifier | undefined>;
  /** The supported commands to store (TIM_COMMANDS); others are acknowledged and counted only. */
  commands: ReadonlySet<string>;
  bodyLimitBytes: number;
  maxJsonDepth: number;
  producer: Producer;
  clock: () => number;
}

/**
 * `POST <path>`: the IM backend's callbacks, every command of every served app. Checks run in a
 * fixed order (method, app, signature, size, JSON, command, schema) and the first failure
 * answers. Whatever the query alone decides is decided before a byte of the body is read, so an
 * unauthenticated caller costs no body buffer. Only a valid callback of a stored command reaches
 * the queue, as the job its catalog entry names, and the 200 is sent once Redis holds it.
 */
export function registerCallbackRoute(app: Hono<AppEnv>, options: CallbackRouteOptions): void {
  const unread = unreadBudget(options.bodyLimitBytes);
  const stored = new Map(
    [...options.commands].flatMap((command) => {
      const definition = CALLBACK_CATALOG[command];
      return definition ? [[command, definition] as const] : [];
    }),
  );
  app.all(options.path, async (c) => {
    const query = c.req.query();
    if (query.SdkAppid !== undefined && options.apps.has(query.SdkAppid)) {
      // A served app (never a stranger's value) labels even its signature failures.
      c.set('app', query.SdkAppid);
    }
    const refusal = checkRequestLine(c.req.method, query, options);
    if (refusal) {
      refuseUnreadBody(c, unread);
      throw refusal;
    }
    const sdkAppId = query.SdkAppid as string;
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
    const command = callbackCommandOf(decoded.value);
    if (command === undefined || command !== query.CallbackCommand) {
      throw new Rejection('command_mismatch', 'CallbackCommand missing or different in query and body');
    }
    const definition = stored.get(command);
    if (!definition) {
      c.set('command', Object.hasOwn(CALLBACK_CATALOG, command) ? command : 'other');
      c.set('outcome', 'other_command');
      return okReply(c, OK_REPLY_TEXT);
    }
    c.set('command', command);

    const parsed = parseCallback(definition, sdkAppId, decoded.value);
    if (!parsed.ok) {
      throw new Rejection('schema', formatIssues(parsed.issues));
    }
    c.set('jobId', parsed.key);
    await enqueue(
      options,
      definition,
      parsed.key,
      {
        sdkAppId,
        command,
        body: decoded.text,
        receivedAt: options.clock(),
        requestId: c.get('requestId'),
      },
      routeKeyOf(parsed.body),
    );
    c.set('outcome', 'accepted');
    return okReply(c, OK_REPLY_TEXT);
  });
}

async function enqueue(
  options: CallbackRouteOptions,
  definition: CallbackDefinition,
  key: string,
  data: Parameters<Producer['enqueue']>[1],
  routeKey: string | undefined,
): Promise<void> {
  try {
    // The job carries this span's context: the worker's spans for it join the request's trace.
    await inSpan(`enqueue ${definition.job}`, { kind: SpanKind.PRODUCER, attributes: { 'imsync.job_id': key } }, () => {
      const traceparent = currentTraceparent();
      return options.producer.enqueue(
        definition.job,
        traceparent === undefined ? data : { ...data, traceparent },
        key,
        routeKey,
      );
    });
  } catch (error) {
    throw new Rejection('queue_unavailable', 'queue unavailable; not stored', {}, { cause: error });
  }
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
  const sdkAppId = query.SdkAppid;
  if (sdkAppId === undefined || !options.apps.has(sdkAppId)) {
    return new Rejection('wrong_app', 'SdkAppid is not an app served here');
  }
  const verifySignature = options.apps.get(sdkAppId);
  if (verifySignature) {
    const signature = verifySignature(query.Sign, query.RequestTime);
    if (!signature.ok) {
      return new Rejection(`signature_${signature.reason}`, signatureMessage[signature.reason]);
    }
  }
  return undefined;
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
