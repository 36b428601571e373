/**
 * Dependency checks and the manual's `/health` report.
 *
 * A check is a function that resolves when the dependency answers. Each runs with a short
 * timeout, so a stalled dependency shows as unhealthy instead of hanging the endpoint.
 *
 * @module
 */
import { formatGoDuration } from "./uptime.ts";

/** One dependency the service needs. */
export interface DependencyCheck {
  /** The key in the report's `checks`: "database", "nats", "redis", "user_service". */
  name: string;
  /** A critical dependency down makes the service unhealthy; a non-critical one, degraded. */
  critical: boolean;
  /** Resolves when healthy; rejects (or times out) otherwise. Receives an abort signal. */
  check: (signal: AbortSignal) => Promise<void>;
}

/** The overall status in the manual's report. */
export type HealthStatus = "healthy" | "degraded" | "unhealthy";

/** The manual's `/health` body, field for field. */
export interface HealthReport {
  status: HealthStatus;
  version: string;
  timestamp: string;
  checks: Record<string, "healthy" | "unhealthy">;
  uptime: string;
}

/**
 * Runs the checks and builds the report.
 *
 * @example
 * ```ts
 * const monitor = new HealthMonitor("v1.0.0", [
 *   { name: "database", critical: true, check: async () => {} },
 * ]);
 * const report = await monitor.report(); // { status: "healthy", ... }
 * ```
 */
export class HealthMonitor {
  readonly startedAt: number = Date.now();
  private readonly lastErrors = new Map<string, string>();

  constructor(
    readonly version: string,
    private readonly checks: DependencyCheck[],
    private readonly timeoutMs = 1000,
  ) {}

  /** Runs every check concurrently, each bounded by the timeout. */
  async report(): Promise<HealthReport> {
    const results = await Promise.all(
      this.checks.map(async (dep) => [dep, await this.run(dep)] as const),
    );
    const checks: HealthReport["checks"] = {};
    let status: HealthStatus = "healthy";
    for (const [dep, ok] of results) {
      checks[dep.name] = ok ? "healthy" : "unhealthy";
      if (!ok && dep.critical) status = "unhealthy";
      else if (!ok && status === "healthy") status = "degraded";
    }
    return {
      status,
      version: this.version,
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      checks,
      uptime: formatGoDuration(Date.now() - this.startedAt),
    };
  }

  /** Why each failing dependency failed on its last check (for logs, never for clients). */
  failures(): ReadonlyMap<string, string> {
    return this.lastErrors;
  }

  private async run(dep: DependencyCheck): Promise<boolean> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`no answer within ${this.timeoutMs}ms`));
      }, this.timeoutMs);
    });
    try {
      await Promise.race([dep.check(controller.signal), timeout]);
      this.lastErrors.delete(dep.name);
      return true;
    } catch (error) {
      this.lastErrors.set(dep.name, error instanceof Error ? error.message : String(error));
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
