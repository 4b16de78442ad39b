import { type Fixture, loadCallbackFixtures, loadFixtures } from '@imsync/fixtures';
import {
  CALLBACK_CATALOG,
  CallbackEnvelopeSchema,
  computeSign,
  GROUP_AFTER_SEND_MSG,
  JOB_KINDS,
  SUPPORTED_COMMANDS,
} from '@imsync/protocol';
import fc from 'fast-check';
import * as v from 'valibot';
import { expect } from 'vitest';
import { REJECTIONS, type RejectionReason } from '../src/errors.js';
import {
  allJobs,
  callbackUrl,
  test as receiverTest,
  SDK_APP_ID,
  type TestReceiver,
  TOKEN,
  withTimeout,
} from './support.js';

// Property-based fuzzing through `app.request()` (the web-stream body path) against a real Redis.
// Whatever comes in, every reply is the JSON envelope with a status below 500, no request hangs,
// nothing reaches a prototype, and the queue ends up holding exactly the bodies answered 200 as
// accepted, each a valid group message. Each reply is also compared with a small model of the
// documented check order, so a wrong status or code is caught, not only a crash.
// A failure prints its seed: FC_SEED=<seed> replays it (runs are random otherwise).

const LIMIT = 1024 * 1024;
const MAX_DEPTH = 32;
const REPLY_TIMEOUT_MS = 5000;
const WINDOW_SECONDS = 60;
const FIXTURES = loadFixtures();
/** Every stored command's fixtures, for the mutation property: each is posted under its own command. */
const CALLBACK_FIXTURES = loadCallbackFixtures();
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

const test = receiverTest.extend('receiverOptions', {
  BODY_LIMIT_BYTES: LIMIT,
  MAX_JSON_DEPTH: MAX_DEPTH,
  SIGNATURE_WINDOW_SECONDS: WINDOW_SECONDS,
});

function runs(numRuns: number) {
  return SEED === undefined ? { numRuns } : { numRuns, seed: SEED };
}

// --- The model: what the receiver must answer ---------------------------------------------------

type Expected =
  | { kind: 'accepted'; jobId: string; text: string }
  | { kind: 'other_command' }
  | { kind: 'rejected'; reason: RejectionReason };

const rejected = (reason: RejectionReason): Expected => ({ kind: 'rejected', reason });

/**
 * Deepest bracket nesting outside strings, counted plainly: the receiver's own scanner (with its
 * fast path) is what is under test, so the model does not reuse it.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') {
        i++;
      } else if (char === '"') {
        inString = false;
      }
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      depth++;
      deepest = Math.max(deepest, depth);
    } else if (char === '}' || char === ']') {
      depth--;
    }
  }
  return deepest;
}

/** Whether any object in a parsed value has a `__proto__`, `constructor` or `prototype` key. */
function hasPrototypeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  return Object.entries(value).some(
    ([key, child]) => ['__proto__', 'constructor', 'prototype'].includes(key) || hasPrototypeKey(child),
  );
}

/** The answer to `bytes` POSTed with a valid signed query whose CallbackCommand is `queryCommand`. */
function expectedForBody(bytes: Uint8Array, queryCommand: string | undefined): Expected {
  if (bytes.byteLength > LIMIT) {
    return rejected('body_too_large');
  }
  let text: string;
  let value: unknown;
  try {
    // Strict UTF-8; a leading BOM is not part of the text.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return rejected('invalid_encoding');
  }
  // Nesting is bounded before parsing, so too deep wins over malformed.
  if (nestingDepth(text) > MAX_DEPTH) {
    return rejected('json_too_deep');
  }
  try {
    value = JSON.parse(text);
  } catch {
    return rejected('invalid_json');
  }
  if (hasPrototypeKey(value)) {
    return rejected('forbidden_key');
  }
  const envelope = v.safeParse(CallbackEnvelopeSchema, value);
  if (!envelope.success || envelope.output.CallbackCommand !== queryCommand) {
    return rejected('command_mismatch');
  }
  // The catalog decides: its commands are validated and queued, any other is only acknowledged.
  const definition = Object.hasOwn(CALLBACK_CATALOG, queryCommand) ? CALLBACK_CATALOG[queryCommand] : undefined;
  if (!definition) {
    return { kind: 'other_command' };
  }
  const message = v.safeParse(definition.schema, value);
  if (!message.success) {
    return rejected('schema');
  }
  return { kind: 'accepted', jobId: definition.key(SDK_APP_ID, message.output), text };
}

/** The query as Hono reads it: `+` is a space, percent-decoding, first occurrence wins. */
function parseQuery(search: string): Map<string, string> {
  const decode = (raw: string) => {
    const spaced = raw.replace(/\+/g, ' ');
    try {
      return decodeURIComponent(spaced);
    } catch {
      // Hono decodes what it can; what is left holds a '%', which no valid value or name does.
      return spaced;
    }
  };
  const query = new Map<string, string>();
  for (const piece of search.replace(/^\?/, '').split('&')) {
    const eq = piece.indexOf('=');
    const name = decode(eq < 0 ? piece : piece.slice(0, eq));
    if (name !== '' && !query.has(name)) {
      query.set(name, eq < 0 ? '' : decode(piece.slice(eq + 1)));
    }
  }
  return query;
}

/** The answer to a whole request carrying a valid body for `fixture`, from its path, method and query. */
function expectedForRequest(request: Request, fixture: Fixture): Expected {
  const url = new URL(request.url);
  if (url.pathname !== '/im/callback') {
    return rejected('not_found');
  }
  if (request.method !== 'POST') {
    return rejected('method_not_allowed');
  }
  const query = parseQuery(url.search);
  if (query.get('SdkAppid') !== SDK_APP_ID) {
    return rejected('wrong_app');
  }
  const sign = query.get('Sign');
  const time = query.get('RequestTime');
  if (sign === undefined || time === undefined) {
    return rejected('signature_missing');
  }
  if (!/^\d{1,12}$/.test(time) || !/^[0-9a-fA-F]{64}$/.test(sign)) {
    return rejected('signature_malformed');
  }
  if (Math.abs(Date.now() / 1000 - Number(time)) > WINDOW_SECONDS) {
    return rejected('signature_stale');
  }
  if (sign.toLowerCase() !== computeSign(TOKEN, time)) {
    return rejected('signature_mismatch');
  }
  return expectedForBody(new TextEncoder().encode(fixture.text), query.get('CallbackCommand'));
}

// --- Sending and checking -----------------------------------------------------------------------

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

const CODES_BY_STATUS = new Map<number, number[]>();
for (const { status, code } of Object.values(REJECTIONS)) {
  CODES_BY_STATUS.set(status, [...(CODES_BY_STATUS.get(status) ?? []), code]);
}

/** What the fuzzing did, to compare with the queue afterwards and to prove it was not vacuous. */
class Ledger {
  /** Job id → every body text answered 200 and accepted with that identity. */
  readonly accepted = new Map<string, Set<string>>();
  readonly outcomes = new Map<string, number>();

  record(expected: Expected): void {
    const label = expected.kind === 'rejected' ? expected.reason : expected.kind;
    this.outcomes.set(label, (this.outcomes.get(label) ?? 0) + 1);
    if (expected.kind === 'accepted') {
      const texts = this.accepted.get(expected.jobId) ?? new Set<string>();
      texts.add(expected.text);
      this.accepted.set(expected.jobId, texts);
    }
  }

  count(label: string): number {
    return this.outcomes.get(label) ?? 0;
  }

  get rejectedCount(): number {
    let total = 0;
    for (const [label, n] of this.outcomes) {
      if (label !== 'accepted' && label !== 'other_command') {
        total += n;
      }
    }
    return total;
  }
}

async function send(receiver: TestReceiver, request: Request): Promise<Reply> {
  const what = `${request.method} ${request.url.slice(0, 120)}`;
  return withTimeout(
    (async () => {
      const res = await receiver.app.request(request);
      return { status: res.status, headers: res.headers, text: await res.text() };
    })(),
    REPLY_TIMEOUT_MS,
    what,
  );
}

/** The envelope every reply carries: OK only with 200, a FAIL code of the status otherwise. */
function expectEnvelope(reply: Reply, method: string): void {
  expect(reply.status).toBeLessThan(500);
  if (method === 'HEAD') {
    // Hono answers HEAD as GET without the body.
    expect(reply.text).toBe('');
    return;
  }
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  const envelope: unknown = JSON.parse(reply.text);
  expect(typeof envelope === 'object' && envelope !== null && Object.keys(envelope).sort()).toEqual([
    'ActionStatus',
    'ErrorCode',
    'ErrorInfo',
  ]);
  if (reply.status === 200) {
    expect(envelope).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' });
    return;
  }
  expect(envelope).toMatchObject({ ActionStatus: 'FAIL', ErrorInfo: expect.any(String) });
  const { ErrorCode, ErrorInfo } = envelope as { ErrorCode: unknown; ErrorInfo: string };
  expect(CODES_BY_STATUS.get(reply.status) ?? []).toContain(ErrorCode);
  expect(ErrorInfo.length).toBeGreaterThan(0);
}

function expectMatches(reply: Reply, expected: Expected): void {
  if (expected.kind === 'rejected' && reply.text === '') {
    // HEAD: the status is all there is.
    expect(reply.status).toBe(REJECTIONS[expected.reason].status);
  } else if (expected.kind === 'rejected') {
    const { status, code } = REJECTIONS[expected.reason];
    expect({ status: reply.status, code: (JSON.parse(reply.text) as { ErrorCode: unknown }).ErrorCode }).toEqual({
      status,
      code,
    });
  } else {
    expect(reply.status).toBe(200);
  }
}

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype];
const prototypeShape = () =>
  PROTOTYPES.map((proto) => [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto).map(String)]);
const PRISTINE = prototypeShape();
// Every key the pollution payloads below carry.
const SENTINELS = ['polluted', 'isAdmin', 'TopicId', 'MsgSeq', 'GroupId', 'CallbackCommand'];

function expectNoPollution(): void {
  expect(prototypeShape()).toEqual(PRISTINE);
  const probe: Record<string, unknown> = {};
  for (const key of SENTINELS) {
    expect(probe[key]).toBeUndefined();
  }
  expect(Object.getPrototypeOf(Object.prototype)).toBeNull();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

/** One request: a well-formed envelope, the status and code of the model, no pollution. */
async function exchange(receiver: TestReceiver, ledger: Ledger, request: Request, expected: Expected): Promise<Reply> {
  const reply = await send(receiver, request);
  expectEnvelope(reply, request.method);
  expectMatches(reply, expected);
  expectNoPollution();
  ledger.record(expected);
  return reply;
}

function post(body: Uint8Array | string, url = callbackUrl()): Request {
  return new Request(url, { method: 'POST', body });
}

/** The queue holds exactly the identities answered as accepted, each with a body that was accepted. */
async function expectQueueMatches(receiver: TestReceiver, ledger: Ledger): Promise<void> {
  const jobs = await allJobs(receiver.queue);
  expect(jobs.map((job) => job.id).sort()).toEqual([...ledger.accepted.keys()].sort());
  for (const job of jobs) {
    const definition = CALLBACK_CATALOG[job.data.command ?? ''];
    expect(definition?.job, `job ${job.id}: ${job.data.command}`).toBe(job.name);
    const parsed = definition && v.safeParse(definition.schema, JSON.parse(job.data.body));
    expect(parsed?.success, `job ${job.id}: ${job.data.body.slice(0, 200)}`).toBe(true);
    if (definition && parsed?.success) {
      expect(job.id).toBe(definition.key(SDK_APP_ID, parsed.output));
    }
    expect(job.data.sdkAppId).toBe(SDK_APP_ID);
    expect(ledger.accepted.get(job.id ?? '')?.has(job.data.body)).toBe(true);
  }
  expectNoPollution();
}

// --- Arbitraries --------------------------------------------------------------------------------

/** Any UTF-16 code unit, lone surrogates included, and a few troublemakers more often. */
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('\ud800', '\udfff', '\u0000', '\u2028', '\u2029', '\ufeff', '\u202e', '\ud83d\ude00', '"', '\\'),
);
const wildString = fc.string({ unit: codeUnit, maxLength: 40 });

const OTHER_COMMANDS = [...SUPPORTED_COMMANDS, 'State.StateChange', 'Group.CallbackAfterSendMsg ', '__proto__'];
const commandArb = fc.oneof(
  fc.constant(GROUP_AFTER_SEND_MSG),
  fc.constantFrom(...OTHER_COMMANDS),
  fc.string({ maxLength: 30 }),
);

/** `value` inside `depth` arrays. */
function nestIn(value: unknown, depth: number): unknown {
  let nested = value;
  for (let i = 0; i < depth; i++) {
    nested = [nested];
  }
  return nested;
}

// --- Mutating valid bodies ----------------------------------------------------------------------

type Container = Record<string, unknown> | unknown[];
interface Slot {
  container: Container;
  key: string;
}

const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null;
const read = (slot: Slot): unknown => (slot.container as Record<string, unknown>)[slot.key];

/** Sets an own enumerable property, even "__proto__", which plain assignment would not create. */
function define(container: Container, key: string, value: unknown): void {
  Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

function remove(slot: Slot): void {
  if (Array.isArray(slot.container)) {
    slot.container.splice(Number(slot.key), 1);
  } else {
    Reflect.deleteProperty(slot.container, slot.key);
  }
}

function rename(slot: Slot, key: string): void {
  if (Array.isArray(slot.container)) {
    return;
  }
  const value = read(slot);
  Reflect.deleteProperty(slot.container, slot.key);
  define(slot.container, key, value);
}

/** Every member and element of the tree, depth first. */
function slotsOf(root: Container): Slot[] {
  const slots: Slot[] = [];
  const visit = (container: Container) => {
    for (const key of Object.keys(container)) {
      const slot = { container, key };
      slots.push(slot);
      const value = read(slot);
      if (isContainer(value)) {
        visit(value);
      }
    }
  };
  visit(root);
  return slots;
}

function objectsOf(root: Record<string, unknown>): Record<string, unknown>[] {
  const nested = slotsOf(root)
    .map(read)
    .filter((value): value is Record<string, unknown> => isContainer(value) && !Array.isArray(value));
  return [root, ...nested];
}

const pick = <T>(items: readonly T[], at: number): T | undefined => items[at % Math.max(items.length, 1)];

// Pollution attempts, as JSON text so that "__proto__" stays an own key when parsed.
const POLLUTION_PAYLOADS = [
  '{"polluted":"yes"}',
  '{"isAdmin":true,"TopicId":"@TGS#evil","MsgSeq":7}',
  '{"__proto__":{"polluted":"yes"}}',
  '{"prototype":{"polluted":"yes","GroupId":"@TGS#evil"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '"polluted"',
  'null',
];

const RETYPES = [
  'string',
  'float',
  'negative',
  'uint32-max',
  'uint32-overflow',
  'huge',
  'array',
  'object',
  'null',
  'boolean',
  'empty',
  'too-long',
  'absent',
] as const;
type Retype = (typeof RETYPES)[number];

function retyped(value: unknown, as: Retype): unknown {
  switch (as) {
    case 'string':
      return typeof value === 'string' ? 7 : String(value);
    case 'float':
      return typeof value === 'number' ? value + 0.5 : 1.5;
    case 'negative':
      return -1;
    case 'uint32-max':
      return 4_294_967_295;
    case 'uint32-overflow':
      return 4_294_967_296;
    case 'huge':
      return 1e21;
    case 'array':
      return [value];
    case 'object':
      return { value };
    case 'null':
      return null;
    case 'boolean':
      return true;
    case 'empty':
      return '';
    case 'too-long':
      return 'x'.repeat(257);
    case 'absent':
      return undefined;
  }
}

const treeMutationArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('retype' as const),
      field: fc.constantFrom('MsgSeq', 'Random', 'GroupId'),
      as: fc.constantFrom(...RETYPES),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pollute' as const),
      at: fc.nat(),
      key: fc.constantFrom('__proto__', 'constructor', 'prototype'),
      payload: fc.constantFrom(...POLLUTION_PAYLOADS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 40 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const),
      at: fc.nat(),
      inKey: fc.boolean(),
      // Mostly moderate; a fair share straddles the body limit.
      size: fc.oneof(fc.integer({ min: 256, max: 64 * 1024 }), fc.integer({ min: LIMIT - 4096, max: LIMIT + 4096 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('unicode' as const),
      at: fc.nat(),
      inKey: fc.boolean(),
      text: wildString,
    }),
  },
);
type TreeMutation = typeof treeMutationArb extends fc.Arbitrary<infer T> ? T : never;

function mutateTree(root: Record<string, unknown>, mutation: TreeMutation): void {
  switch (mutation.kind) {
    case 'delete': {
      const slot = pick(slotsOf(root), mutation.at);
      if (slot) {
        remove(slot);
      }
      return;
    }
    case 'set': {
      const slot = pick(slotsOf(root), mutation.at);
      if (slot) {
        define(slot.container, slot.key, mutation.value);
      }
      return;
    }
    case 'retype': {
      const value = retyped(root[mutation.field], mutation.as);
      if (value === undefined) {
        Reflect.deleteProperty(root, mutation.field);
      } else {
        define(root, mutation.field, value);
      }
      return;
    }
    case 'pollute': {
      const target = pick(objectsOf(root), mutation.at);
      if (target) {
        define(target, mutation.key, JSON.parse(mutation.payload));
      }
      return;
    }
    case 'nest': {
      const slot = pick(slotsOf(root), mutation.at);
      if (slot) {
        define(slot.container, slot.key, nestIn(read(slot), mutation.depth));
      }
      return;
    }
    case 'huge':
    case 'unicode': {
      const text = mutation.kind === 'huge' ? 'x'.repeat(mutation.size) : mutation.text;
      const slot = pick(slotsOf(root), mutation.at);
      if (slot && mutation.inKey) {
        rename(slot, text);
      } else if (slot) {
        define(slot.container, slot.key, text);
      }
      return;
    }
  }
}

const duplicateArb = fc.record({
  key: fc.constantFrom('MsgSeq', 'Random', 'GroupId', 'TopicId', 'CallbackCommand', 'MsgBody', '__proto__'),
  value: fc.jsonValue({ maxDepth: 2 }),
  atEnd: fc.boolean(),
});
type Duplicate = typeof duplicateArb extends fc.Arbitrary<infer T> ? T : never;

/** A second member with the same key spliced into the text, before or after the original. */
function withDuplicate(text: string, { key, value, atEnd }: Duplicate): string {
  if (!text.startsWith('{') || !text.endsWith('}')) {
    return text;
  }
  const member = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  const comma = text === '{}' ? '' : ',';
  return atEnd ? `${text.slice(0, -1)}${comma}${member}}` : `{${member}${comma}${text.slice(1)}`;
}

const HOSTILE_BYTES = [
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xef, 0xbb, 0xbf],
  [0x00],
  [0xe2, 0x82],
];
const byteMutationArb = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.constantFrom(...HOSTILE_BYTES) }),
);
type ByteMutation = typeof byteMutationArb extends fc.Arbitrary<infer T> ? T : never;

function mutateBytes(bytes: Uint8Array, mutation: ByteMutation): Uint8Array {
  const at = mutation.at % Math.max(bytes.length, 1);
  if (mutation.kind === 'flip') {
    const copy = Uint8Array.from(bytes);
    if (copy.length > 0) {
      copy[at] = (copy[at] ?? 0) ^ mutation.mask;
    }
    return copy;
  }
  return Buffer.concat([bytes.subarray(0, at), Uint8Array.from(mutation.bytes), bytes.subarray(at)]);
}

const mutationPlanArb = fc
  .record({
    fixture: fc.constantFrom(...CALLBACK_FIXTURES),
    tree: fc.array(treeMutationArb, { maxLength: 3 }),
    duplicate: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: duplicateArb }),
    truncateAt: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
    bytes: fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(byteMutationArb) }),
  })
  .filter(
    (plan) => plan.tree.length + plan.bytes.length > 0 || plan.duplicate !== undefined || plan.truncateAt !== undefined,
  );
type MutationPlan = typeof mutationPlanArb extends fc.Arbitrary<infer T> ? T : never;

function mutatedBody(plan: MutationPlan): Uint8Array {
  const root = structuredClone(plan.fixture.body);
  for (const mutation of plan.tree) {
    mutateTree(root, mutation);
  }
  let text = JSON.stringify(root);
  if (plan.duplicate) {
    text = withDuplicate(text, plan.duplicate);
  }
  if (plan.truncateAt !== undefined) {
    text = text.slice(0, plan.truncateAt % (text.length + 1));
  }
  let bytes: Uint8Array = new TextEncoder().encode(text);
  for (const mutation of plan.bytes) {
    bytes = mutateBytes(bytes, mutation);
  }
  return bytes;
}

// --- Hostile request shapes ---------------------------------------------------------------------

// Raw query text: percent-encoded arbitrary text, malformed escapes and separators in disguise.
const RAW_PIECES = [
  '%FF',
  '%',
  '%zz',
  '%00',
  '%C0%AF',
  '%ED%A0%80',
  '%E2%82',
  '%%',
  '+',
  '%2B',
  '%26',
  '%3D',
  '%23',
  '=',
];
const rawQueryText = fc
  .array(
    fc.oneof(fc.constantFrom(...RAW_PIECES), fc.string({ unit: 'grapheme', maxLength: 6 }).map(encodeURIComponent)),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const VARIANTS = [
  'missing',
  'empty',
  'bare',
  'garbage',
  'long',
  'encoded-value',
  'encoded-name',
  'lowercase-name',
  'valid-then-garbage',
  'garbage-then-valid',
  'leading-space',
  'uppercase',
  'neighbour',
  'stale',
] as const;
const paramArb = fc.record({
  variant: fc.oneof({ weight: 4, arbitrary: fc.constant('valid' as const) }, fc.constantFrom(...VARIANTS)),
  garbage: rawQueryText,
  longSize: fc.integer({ min: 1000, max: 65_536 }),
});
type ParamSpec = typeof paramArb extends fc.Arbitrary<infer T> ? T : never;

const percentAll = (text: string) =>
  [...new TextEncoder().encode(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

/**
 * The raw query pieces for one parameter. `near` holds values that pass every format check but
 * are off by one (another app, the previous second, its Sign); `stale` a signed time out of the window.
 */
function paramPieces(
  name: string,
  values: { valid: string; near: string; stale: string },
  { variant, garbage, longSize }: ParamSpec,
): string[] {
  const { valid } = values;
  const good = `${name}=${encodeURIComponent(valid)}`;
  switch (variant) {
    case 'valid':
      return [good];
    case 'missing':
      return [];
    case 'empty':
      return [`${name}=`];
    case 'bare':
      return [name];
    case 'garbage':
      return [`${name}=${garbage}`];
    case 'long':
      return [`${name}=${encodeURIComponent(valid)}${'9'.repeat(longSize)}`];
    case 'encoded-value':
      return [`${name}=${percentAll(valid)}`];
    case 'encoded-name':
      return [`${percentAll(name)}=${encodeURIComponent(valid)}`];
    case 'lowercase-name':
      return [`${name.toLowerCase()}=${encodeURIComponent(valid)}`];
    case 'valid-then-garbage':
      return [good, `${name}=${garbage}`];
    case 'garbage-then-valid':
      return [`${name}=${garbage}`, good];
    case 'leading-space':
      return [`${name}=+${encodeURIComponent(valid)}`];
    case 'uppercase':
      return [`${name}=${encodeURIComponent(valid.toUpperCase())}`];
    case 'neighbour':
      return [`${name}=${encodeURIComponent(values.near)}`];
    case 'stale':
      return [`${name}=${encodeURIComponent(values.stale)}`];
  }
}

const PARAM_NAMES = ['SdkAppid', 'CallbackCommand', 'RequestTime', 'Sign', 'contenttype', 'ClientIP', 'OptPlatform'];
const JUNK_NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'sdkappid', 'Sign[]', 'a'];

const FORBIDDEN_METHODS = /^(connect|trace|track)$/i;
const methodArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('POST') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'post', 'Post', 'QUERY'),
  },
  // Any token; "patch" in other than upper case is left out, as undici warns about it on stderr.
  {
    weight: 1,
    arbitrary: fc
      .stringMatching(/^[A-Za-z]{1,12}$/)
      .filter((m) => !FORBIDDEN_METHODS.test(m) && (m === 'PATCH' || m.toUpperCase() !== 'PATCH')),
  },
);
const pathArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('/im/callback') },
  fc.constantFrom('/im/callback/', '/IM/callback', '/im/callbacks', '/im', '/', '/im/./callback', '/im/callback/..'),
);
const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  '',
];
const headersArb = fc.record({
  contentType: fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), printable(60)), { nil: undefined }),
  requestId: fc.option(fc.oneof(fc.stringMatching(/^[\w=-]{1,300}$/), printable(300)), { nil: undefined }),
  extra: fc.array(
    fc.tuple(
      fc.constantFrom(
        'content-encoding',
        'transfer-encoding',
        'x-forwarded-for',
        'expect',
        'connection',
        'cookie',
        'x-http-method-override',
        'authorization',
      ),
      printable(80),
    ),
    { maxLength: 3 },
  ),
});

const requestShapeArb = fc.record({
  fixture: fc.constantFrom(...FIXTURES),
  path: pathArb,
  method: methodArb,
  params: fc.tuple(...PARAM_NAMES.map(() => paramArb)),
  junk: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...JUNK_NAMES), rawQueryText), rawQueryText), { maxLength: 3 }),
  // A sort key per param group and junk piece, so the order of the groups varies.
  order: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
  headers: headersArb,
});
type RequestShape = typeof requestShapeArb extends fc.Arbitrary<infer T> ? T : never;

function buildRequest(shape: RequestShape): Request {
  const now = Math.floor(Date.now() / 1000);
  const valid: Record<string, string> = {
    SdkAppid: SDK_APP_ID,
    CallbackCommand: GROUP_AFTER_SEND_MSG,
    RequestTime: String(now),
    Sign: computeSign(TOKEN, now),
    contenttype: 'json',
    ClientIP: '203.0.113.24',
    OptPlatform: 'Android',
  };
  const near: Record<string, string> = {
    SdkAppid: String(Number(SDK_APP_ID) + 1),
    CallbackCommand: 'Group.CallbackAfterRecallMsg',
    RequestTime: String(now - 1),
    Sign: computeSign(TOKEN, now - 1),
  };
  const stale: Record<string, string> = { RequestTime: String(now - WINDOW_SECONDS - 1) };
  const fallback: ParamSpec = { variant: 'valid', garbage: '', longSize: 0 };
  const groups = [
    ...PARAM_NAMES.map((name, i) => {
      const values = { valid: valid[name] ?? '', near: near[name] ?? 'x', stale: stale[name] ?? near[name] ?? 'x' };
      return paramPieces(name, values, shape.params[i] ?? fallback);
    }),
    ...shape.junk.map(([name, value]) => [`${name}=${value}`]),
  ];
  const ordered = groups
    .map((pieces, i) => ({ pieces, key: shape.order[i] ?? i }))
    .sort((a, b) => a.key - b.key)
    .flatMap((group) => group.pieces);
  const headers = new Headers();
  if (shape.headers.contentType !== undefined) {
    headers.set('content-type', shape.headers.contentType);
  }
  if (shape.headers.requestId !== undefined) {
    headers.set('x-request-id', shape.headers.requestId);
  }
  for (const [name, value] of shape.headers.extra) {
    headers.append(name, value);
  }
  // Fetch normalises get/head to upper case and refuses a body with either.
  const hasBody = !/^(get|head)$/i.test(shape.method);
  return new Request(`http://receiver.test${shape.path}?${ordered.join('&')}`, {
    method: shape.method,
    headers,
    body: hasBody ? shape.fixture.text : null,
  });
}

// --- Properties ---------------------------------------------------------------------------------

test('random bytes as a signed callback body', async ({ receiver }) => {
  const ledger = new Ledger();
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
      await exchange(receiver, ledger, post(bytes), expectedForBody(bytes, GROUP_AFTER_SEND_MSG));
    }),
    runs(400),
  );
  await expectQueueMatches(receiver, ledger);
  expect(ledger.rejectedCount).toBeGreaterThan(0);
});

test('random strings as a signed callback body', async ({ receiver }) => {
  const ledger = new Ledger();
  const stringArb = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 2000 }),
    fc.string({ unit: codeUnit, maxLength: 500 }),
    fc.stringMatching(/^[[\]{}",:0-9a-zA-Z\\ .eE+-]{0,200}$/),
    fc.json({ maxDepth: 4 }),
  );
  await fc.assert(
    fc.asyncProperty(stringArb, async (text) => {
      // The body goes out as UTF-8; a lone surrogate becomes U+FFFD on the way, as in any client.
      const bytes = new TextEncoder().encode(text);
      await exchange(receiver, ledger, post(bytes), expectedForBody(bytes, GROUP_AFTER_SEND_MSG));
    }),
    runs(300),
  );
  await expectQueueMatches(receiver, ledger);
  expect(ledger.rejectedCount).toBeGreaterThan(0);
});

test('random JSON values, some dressed as callbacks, under a random CallbackCommand', async ({ receiver }) => {
  const ledger = new Ledger();
  const valueArb = fc.oneof(
    fc.jsonValue(),
    fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }),
    fc
      .tuple(fc.jsonValue({ maxDepth: 2 }), fc.integer({ min: 25, max: 40 }))
      .map(([value, depth]) => nestIn(value, depth)),
    fc
      .tuple(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), commandArb)
      .map(([members, command]) => ({ ...members, CallbackCommand: command })),
  );
  const queryCommandArb = fc.oneof(commandArb, fc.constant(undefined));
  await fc.assert(
    fc.asyncProperty(valueArb, queryCommandArb, fc.boolean(), async (value, queryCommand, sameCommand) => {
      const body = new TextEncoder().encode(JSON.stringify(value));
      const bodyCommand = isContainer(value) && !Array.isArray(value) ? value.CallbackCommand : undefined;
      const command = sameCommand && typeof bodyCommand === 'string' ? bodyCommand : queryCommand;
      const url = new URL(callbackUrl());
      if (command === undefined) {
        url.searchParams.delete('CallbackCommand');
      } else {
        url.searchParams.set('CallbackCommand', command);
      }
      await exchange(receiver, ledger, post(body, url.toString()), expectedForBody(body, command));
    }),
    runs(400),
  );
  await expectQueueMatches(receiver, ledger);
  expect(ledger.rejectedCount).toBeGreaterThan(0);
  expect(ledger.count('other_command')).toBeGreaterThan(0);
});

test('mutated fixtures: deleted, retyped, polluted, nested, huge, unicode, duplicated, truncated, flipped', async ({
  receiver,
}) => {
  const ledger = new Ledger();
  await fc.assert(
    fc.asyncProperty(mutationPlanArb, async (plan) => {
      const bytes = mutatedBody(plan);
      const url = callbackUrl({ command: plan.fixture.command });
      await exchange(receiver, ledger, post(bytes, url), expectedForBody(bytes, plan.fixture.command));
    }),
    runs(2500),
  );
  await expectQueueMatches(receiver, ledger);
  // Not vacuous: some mutants pass every check and land in Redis, others are refused.
  expect(ledger.count('accepted')).toBeGreaterThan(20);
  expect(ledger.accepted.size).toBeGreaterThan(5);
  // Mutants of every command were accepted, each queued as its own kind of job.
  const kinds = new Set((await allJobs(receiver.queue)).map((job) => job.name));
  expect([...kinds].sort()).toEqual([...JOB_KINDS].sort());
  expect(ledger.rejectedCount).toBeGreaterThan(20);
  expect(ledger.count('schema')).toBeGreaterThan(0);
  expect(ledger.count('invalid_json')).toBeGreaterThan(0);
});

test('hostile queries, methods, paths and headers around a valid body', async ({ receiver }) => {
  const ledger = new Ledger();
  await fc.assert(
    fc.asyncProperty(requestShapeArb, async (shape) => {
      const request = buildRequest(shape);
      const expected = expectedForRequest(request, shape.fixture);
      const sentId = request.headers.get('x-request-id');
      const reply = await exchange(receiver, ledger, request, expected);
      if (expected.kind === 'rejected' && expected.reason === 'method_not_allowed') {
        expect(reply.headers.get('allow')).toBe('POST');
      }
      // A caller's request id is echoed only when it is safe to log and to put in a header.
      const id = reply.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[\w=-]{1,255}$/);
      if (sentId !== null && /^[\w=-]{1,255}$/.test(sentId)) {
        expect(id).toBe(sentId);
      }
    }),
    runs(1500),
  );
  await expectQueueMatches(receiver, ledger);
  // Not vacuous: the common answers all occur (rarer ones, like a stale time, only usually do).
  const labels = [
    'accepted',
    'not_found',
    'method_not_allowed',
    'wrong_app',
    'signature_malformed',
    'command_mismatch',
  ];
  for (const label of labels) {
    expect(ledger.count(label), label).toBeGreaterThan(0);
  }
});
