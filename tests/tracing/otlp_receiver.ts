/**
 * An OTLP/HTTP receiver of the test's own: `POST /v1/traces` in OTLP JSON
 * (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, which Deno's exporter speaks), kept as flat spans with
 * their service's name. Logs and metrics are accepted and dropped.
 *
 * @module
 */

/** One received span, flattened. */
export interface ReceivedSpan {
  service: string;
  scope: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  /** 0 unset, 1 ok, 2 error. */
  status: number;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
  start: bigint;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  attributes?: OtlpAttribute[];
  links?: Array<{ traceId: string; spanId: string }>;
  status?: { code?: number };
}
interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}

/** The receiver; `url` goes in OTEL_EXPORTER_OTLP_ENDPOINT. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private readonly server: Deno.HttpServer<Deno.NetAddr>;

  constructor() {
    this.server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.receive(req),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.addr.port}`;
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    await this.server.shutdown();
  }

  private async receive(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const body = await req.text();
    if (req.method !== "POST") return new Response("POST only", { status: 405 });
    if (path === "/v1/traces") {
      if (!req.headers.get("content-type")?.includes("json")) {
        return new Response("this receiver speaks OTLP JSON only", { status: 415 });
      }
      this.add(JSON.parse(body) as OtlpTraces);
    }
    return Response.json({});
  }

  private add(data: OtlpTraces): void {
    for (const resourceSpans of data.resourceSpans ?? []) {
      const resource = attributes(resourceSpans.resource?.attributes);
      const service = String(resource["service.name"] ?? "");
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.spans.push({
            service,
            scope: scopeSpans.scope?.name ?? "",
            name: span.name,
            kind: span.kind,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? "",
            status: span.status?.code ?? 0,
            attributes: attributes(span.attributes),
            links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            start: BigInt(span.startTimeUnixNano),
          });
        }
      }
    }
  }
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
  }
  return out;
}
