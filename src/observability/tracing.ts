// OpenTelemetry tracing, off unless configured: an OTLP/HTTP exporter for `--otlp_traces_endpoint`,
// or any SpanExporter (tests use InMemorySpanExporter, no network). Spans: one `request` per
// REST/gRPC call, with `run` (the signature run, onnxruntime) and, when batching, `queue` children.
import { AsyncLocalStorage } from "node:async_hooks";
import { context, type Span, type Tracer, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";

export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. `http://otel-collector:4318/v1/traces`. */
  readonly otlpEndpoint?: string;
  /** A SpanExporter of your own (exported synchronously, span by span: meant for tests). */
  readonly exporter?: SpanExporter;
  /** `service.name` resource attribute (default "ts-serving"). */
  readonly serviceName?: string;
}

/** The request span of the code running now (set while a traced request runs). */
const activeRequest = new AsyncLocalStorage<Span>();

/**
 * A tracer provider of its own (not registered globally, so several servers in one process do not
 * share it) and the tracer ts-serving's spans come from.
 *
 * @example
 * const tracing = Tracing.create({ otlpEndpoint: "http://127.0.0.1:4318/v1/traces" });
 * const span = tracing?.tracer.startSpan("request");
 * await tracing?.shutdown();
 */
export class Tracing {
  private constructor(
    readonly tracer: Tracer,
    private readonly provider: BasicTracerProvider,
  ) {}

  /** A Tracing when an endpoint or exporter is given, else undefined (tracing off). */
  static create(options: TracingOptions): Tracing | undefined {
    const processors = [];
    if (options.exporter) processors.push(new SimpleSpanProcessor(options.exporter));
    if (options.otlpEndpoint) {
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint })));
    }
    if (processors.length === 0) return undefined;
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": options.serviceName ?? "ts-serving" }),
      spanProcessors: processors,
    });
    return new Tracing(provider.getTracer("ts-serving"), provider);
  }

  /** Starts a child span of the current request's span (none outside a traced request). */
  startChild(
    name: string,
    attributes: Record<string, string | number>,
    startTime?: number,
  ): Span | undefined {
    const parent = activeRequest.getStore();
    if (parent === undefined) return undefined;
    return this.tracer.startSpan(
      name,
      startTime === undefined ? { attributes } : { attributes, startTime },
      trace.setSpan(context.active(), parent),
    );
  }

  /** Flushes pending spans and stops exporting. */
  async shutdown(): Promise<void> {
    await this.provider.forceFlush();
    await this.provider.shutdown();
  }
}

/** Runs `fn` with `span` as the current request span (for the child spans of its async work). */
export function withRequestSpan<T>(span: Span, fn: () => T): T {
  return activeRequest.run(span, fn);
}
