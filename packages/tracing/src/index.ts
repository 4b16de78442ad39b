import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import * as v from 'valibot';

// OpenTelemetry traces, off unless the standard OTEL_* variables turn them on. One callback is
// followed from the receiver's request through its job to the archive write and each delivery:
// the context travels in the job data as a W3C `traceparent` (the receiver enqueues through its own
// add script, not BullMQ's Queue.add, so BullMQ's telemetry option would not carry it).

/** The OTEL_* variables imsync reads itself; the SDK reads the others (sampler, batch, headers). */
export const TRACING_VARS = {
  /** `true`: no tracing, whatever else is set. */
  OTEL_SDK_DISABLED: v.optional(v.picklist(['true', 'false'], 'must be true or false')),
  /** `otlp` turns tracing on (with the endpoint's default, http://localhost:4318); `none` keeps it off. */
  OTEL_TRACES_EXPORTER: v.optional(v.picklist(['otlp', 'none'], 'must be otlp or none')),
  /** Where spans go (OTLP over HTTP): setting either turns tracing on. */
  OTEL_EXPORTER_OTLP_ENDPOINT: v.optional(v.pipe(v.string(), v.url('must be a URL'))),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: v.optional(v.pipe(v.string(), v.url('must be a URL'))),
  /** Defaults to imsync-<process> (imsync-receiver, imsync-worker). */
  OTEL_SERVICE_NAME: v.optional(v.string()),
};

type TracingEnv = { [K in keyof typeof TRACING_VARS]?: string | undefined };

/** Whether these variables turn tracing on: an exporter or an endpoint named, and the SDK not disabled. */
export function tracingEnabled(env: TracingEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') {
    return false;
  }
  return (
    env.OTEL_TRACES_EXPORTER === 'otlp' ||
    env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined
  );
}

export interface Tracing {
  readonly enabled: boolean;
  /** Sends the spans still buffered; part of a process's shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK when `env` turns tracing on. It is loaded only then: a process that does not
 * trace loads no exporter and makes no span (the API's no-op tracer answers every call).
 */
export async function startTracing(options: { service: string; env: TracingEnv }): Promise<Tracing> {
  if (!tracingEnabled(options.env)) {
    return { enabled: false, shutdown: async () => {} };
  }
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
  const resource = resources
    .resourceFromAttributes({ 'service.name': options.service })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return { enabled: true, shutdown: () => provider.shutdown() };
}

const tracer = () => trace.getTracer('imsync');

/** The active context as a W3C traceparent, for a job's data; undefined when nothing is traced. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a job's traceparent names (the root context when it has none). */
export function contextOf(traceparent: string | undefined): Context {
  return traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The context a request's headers carry (`traceparent`, `tracestate`), or the root context. */
export function contextOfHeaders(headers: Record<string, string>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent's context; the active one when not given. */
  parent?: Context;
}

/**
 * Runs `work` in a span of its own (made active, so spans and traceparents inside are its
 * children), ended when `work` settles; a thrown error marks the span failed and is rethrown.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes && { attributes: options.attributes }) },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

export { SpanKind, SpanStatusCode };
