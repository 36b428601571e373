/**
 * The plain-HTTP endpoints every service port serves next to its RPCs: `GET /health` (the
 * operations manual's JSON) and `GET /metrics` (Prometheus text), read as typed values.
 *
 * @module
 */

/** `/health` or `/metrics` answered with something that is not a report (a proxy's 502 page). */
export class StatusEndpointError extends Error {
  /**
   * Creates the error.
   *
   * @param httpStatus The HTTP status the endpoint answered with.
   * @param message What went wrong, for people.
   *
   * @example
   * ```ts
   * throw new StatusEndpointError(502, "GET /health answered 502 without a health report");
   * ```
   */
  constructor(readonly httpStatus: number, message: string) {
    super(message);
    this.name = "StatusEndpointError";
  }
}

/** A service's `/health` answer, as the operations manual defines it. */
export interface HealthReport {
  /** `healthy`, `degraded` (an optional dependency is down) or `unhealthy`. */
  status: "healthy" | "degraded" | "unhealthy";
  /** The service's version. */
  version: string;
  /** When the report was made, ISO 8601. */
  timestamp: string;
  /** One entry per dependency: "database", "nats", "redis", "user_service". */
  checks: Record<string, "healthy" | "unhealthy">;
  /** Go duration form, such as `72h30m15s`. */
  uptime: string;
}

/** What reading `/health` gave: the HTTP status (200, or 503 while unhealthy) and the report. */
export interface HealthReading {
  /** 200, or 503 while the service is unhealthy. */
  httpStatus: number;
  /** The parsed body. */
  report: HealthReport;
}

/** Options of {@link fetchHealth} and {@link fetchMetrics}. */
export interface StatusFetchOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/**
 * Reads `GET <baseUrl>/health`. A 503 with a report is a reading (the service says it is
 * unhealthy); a network failure or a body that is not a report throws.
 *
 * @example
 * ```ts
 * const { httpStatus, report } = await fetchHealth("http://localhost:50051");
 * console.log(report.status, report.checks, report.uptime);
 * ```
 */
export async function fetchHealth(
  baseUrl: string,
  options: StatusFetchOptions = {},
): Promise<HealthReading> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const res = await fetchFn(`${baseUrl.replace(/\/+$/, "")}/health`, {
    signal: options.signal,
    headers: { accept: "application/json" },
  });
  const body = await res.text();
  let report: unknown;
  try {
    report = JSON.parse(body);
  } catch {
    report = undefined;
  }
  if (!isHealthReport(report)) {
    throw new StatusEndpointError(
      res.status,
      `GET /health answered ${res.status} without a health report`,
    );
  }
  return { httpStatus: res.status, report };
}

function isHealthReport(value: unknown): value is HealthReport {
  const v = value as Partial<HealthReport> | null;
  return typeof v === "object" && v !== null && typeof v.status === "string" &&
    typeof v.checks === "object" && v.checks !== null && typeof v.uptime === "string";
}

/** One sample of a Prometheus metric: its labels and value. */
export interface MetricSample {
  /** The sample's labels, unescaped (`{}` when it has none). */
  labels: Record<string, string>;
  /** The value (`Infinity` for `+Inf`). */
  value: number;
}

/**
 * Reads `GET <baseUrl>/metrics` and returns the samples by metric name.
 *
 * @example
 * ```ts
 * const metrics = await fetchMetrics("http://localhost:50052");
 * metrics.get("tasks_created_total")?.[0].value;
 * ```
 */
export async function fetchMetrics(
  baseUrl: string,
  options: StatusFetchOptions = {},
): Promise<Map<string, MetricSample[]>> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const res = await fetchFn(`${baseUrl.replace(/\/+$/, "")}/metrics`, { signal: options.signal });
  if (!res.ok) {
    await res.body?.cancel();
    throw new StatusEndpointError(res.status, `GET /metrics answered ${res.status}`);
  }
  return parsePrometheusText(await res.text());
}

/**
 * Parses the Prometheus text format (comments skipped, labels unescaped).
 *
 * @example
 * ```ts
 * parsePrometheusText('users_online_count 3\nx{a="b"} 1.5\n').get("x"); // [{ labels: { a: "b" }, value: 1.5 }]
 * ```
 */
export function parsePrometheusText(text: string): Map<string, MetricSample[]> {
  const out = new Map<string, MetricSample[]>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, labelText, valueText] = match;
    const labels: Record<string, string> = {};
    for (const label of (labelText ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]] = label[2].replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    }
    const value = valueText === "+Inf"
      ? Infinity
      : valueText === "-Inf"
      ? -Infinity
      : Number(valueText);
    const samples = out.get(name) ?? [];
    samples.push({ labels, value });
    out.set(name, samples);
  }
  return out;
}
