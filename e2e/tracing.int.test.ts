import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadFixture } from '@imsync/fixtures';
import { startAppProcess, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { expect, onTestFinished } from 'vitest';
import { startDestinationServer } from './deliveries/destination-server.js';
import { SDK_APP_ID, signed, startReceiver } from './stack.js';

// One callback followed end to end with OpenTelemetry, as an operator would: the receiver and a
// worker export to an OTLP/HTTP endpoint (here a collector in this test: nothing leaves the
// machine), and the spans of the request, its job, the archive write and the delivery form one trace.

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  service: string;
}

/** An OTLP/HTTP (JSON) trace collector on 127.0.0.1, keeping every span it is sent. */
async function startCollector() {
  const spans: Span[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: Span['attributes'] };
          scopeSpans: { spans: Omit<Span, 'service'>[] }[];
        }[];
      };
      for (const { resource, scopeSpans } of body.resourceSpans) {
        const service = String(resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue);
        for (const scope of scopeSpans) {
          spans.push(...scope.spans.map((span) => ({ ...span, service })));
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

const attribute = (span: Span, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
};

test('a callback is followed from the request through its job and the archive write to its delivery, in one trace', async ({
  redis,
  databaseUrl,
}) => {
  const collector = await startCollector();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const destination = await startDestinationServer(secret);
  onTestFinished(() => destination.close());
  // The standard variables, as README gives them; spans leave in batches every 200 ms.
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' };
  const { receiver, callbackUrl } = await startReceiver({ REDIS_URL: redis.url, QUEUE_PREFIX: 'traced', ...otel });
  onTestFinished(() => receiver.stop().then(() => undefined));
  const worker = await startAppProcess('worker', {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: 'traced',
    DATABASE_URL: databaseUrl,
    TIM_SDK_APP_ID: SDK_APP_ID,
    METRICS_PORT: '0',
    GAP_DETECTION: 'off',
    SYNC_HTTP_URL: destination.url,
    SYNC_HTTP_SECRET: secret,
    ...otel,
  });
  onTestFinished(() => worker.stop().then(() => undefined));

  const body = JSON.stringify({ ...loadFixture('text-public').body, MsgSeq: 4242 });
  expect((await fetch(signed(callbackUrl), { method: 'POST', body })).status).toBe(200);
  await waitFor(() => destination.delivered().size === 1, { what: 'the event delivered' });

  const names = ['POST callback', 'enqueue group-message', 'process group-message', 'archive store', 'deliver http'];
  const trace = await waitFor(
    () => {
      const root = collector.spans.find((span) => span.name === 'POST callback');
      const inTrace = collector.spans.filter((span) => span.traceId === root?.traceId);
      return names.every((name) => inTrace.some((span) => span.name === name)) ? inTrace : undefined;
    },
    { what: `the spans ${names.join(', ')} in one trace`, timeoutMs: 15_000 },
  );
  const span = (name: string) => trace.find((each) => each.name === name) as Span;
  // The chain: request → enqueue (receiver) → the job (worker) → archive write, and → delivery.
  expect(span('POST callback').parentSpanId ?? '').toBe('');
  expect(span('enqueue group-message').parentSpanId).toBe(span('POST callback').spanId);
  expect(span('process group-message').parentSpanId).toBe(span('enqueue group-message').spanId);
  expect(span('archive store').parentSpanId).toBe(span('process group-message').spanId);
  expect(span('deliver http').parentSpanId).toBe(span('process group-message').spanId);
  expect(span('POST callback').service).toBe('imsync-receiver');
  expect(span('deliver http').service).toBe('imsync-worker');
  // What an operator searches by: the job id (the event key) on both sides, and each outcome.
  const jobId = attribute(span('POST callback'), 'imsync.job_id');
  expect(jobId).toBeTruthy();
  expect(attribute(span('process group-message'), 'imsync.job_id')).toBe(jobId);
  expect(attribute(span('POST callback'), 'imsync.outcome')).toBe('accepted');
  expect(attribute(span('archive store'), 'imsync.outcome')).toBe('stored');
  expect(attribute(span('deliver http'), 'imsync.destination')).toBe('http');
});
