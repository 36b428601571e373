/**
 * The services' `GET /health` (the manual's JSON: status, version, checks, uptime), fetched with a
 * timeout, and a wait until every service reports healthy.
 *
 * @module
 */
import { errorMessage } from "./errors.ts";
import { formatDuration } from "./format.ts";
import type { Output } from "./output.ts";

/** What one `/health` call returned. */
export interface HealthReport {
  service: string;
  url: string;
  /** "healthy" | "degraded" | "unhealthy" from the body, or "unreachable". */
  status: string;
  httpStatus?: number;
  version?: string;
  uptime?: string;
  checks?: Record<string, string>;
  error?: string;
}

/**
 * GETs `<baseUrl>/health` and reads the manual's JSON.
 *
 * @example
 * ```ts
 * const report = await fetchHealth("users", "http://127.0.0.1:50051");
 * report.status; // "healthy"
 * ```
 */
export async function fetchHealth(
  service: string,
  baseUrl: string,
  timeoutMs = 3000,
): Promise<HealthReport> {
  const url = `${baseUrl.replace(/\/+$/, "")}/health`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch { /* not JSON */ }
    const status = typeof body.status === "string"
      ? body.status
      : response.ok
      ? "healthy"
      : "unhealthy";
    return {
      service,
      url,
      status,
      httpStatus: response.status,
      version: typeof body.version === "string" ? body.version : undefined,
      uptime: typeof body.uptime === "string" ? body.uptime : undefined,
      checks: typeof body.checks === "object" && body.checks !== null
        ? body.checks as Record<string, string>
        : undefined,
      error: response.ok ? undefined : `HTTP ${response.status}`,
    };
  } catch (error) {
    const message = error instanceof DOMException && error.name === "TimeoutError"
      ? `no answer within ${timeoutMs}ms`
      : fetchFailure(error);
    return { service, url, status: "unreachable", error: message };
  }
}

/**
 * Polls every service until all answer 200 (healthy or degraded) or the timeout passes; reports
 * each change of state. Resolves with the last reports.
 *
 * @example
 * ```ts
 * const reports = await waitForHealthy({ users: "http://127.0.0.1:50051" }, output, 300_000);
 * ```
 */
export async function waitForHealthy(
  services: Record<string, string>,
  output: Output,
  timeoutMs: number,
  intervalMs = 2000,
): Promise<{ healthy: boolean; reports: HealthReport[] }> {
  const started = Date.now();
  const last = new Map<string, string>();
  for (;;) {
    const reports = await Promise.all(
      Object.entries(services).map(([name, url]) => fetchHealth(name, url, 3000)),
    );
    for (const report of reports) {
      const state = `${report.status}${report.error ? ` (${report.error})` : ""}`;
      if (last.get(report.service) !== state) {
        output.line(`  ${report.service} ${report.url}: ${state}`);
        last.set(report.service, state);
      }
    }
    const healthy = reports.every((r) => r.httpStatus === 200 && r.status !== "unhealthy");
    if (healthy) return { healthy, reports };
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) return { healthy: false, reports };
    output.progress(
      `  waiting for /health: ${formatDuration(elapsed)} of ${formatDuration(timeoutMs)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, timeoutMs - elapsed)));
  }
}

/** "fetch failed" says nothing: the cause says "Connection refused" or "dns error". */
function fetchFailure(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const text = cause instanceof Error ? cause.message : errorMessage(error);
  const reason = /(?:client error \((\w+)\): )?(.*)$/.exec(text)?.[2] ?? text;
  return reason.replace(/^.*?: (tcp connect error|dns error)/, "$1");
}
