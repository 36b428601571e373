/**
 * Dependency checks and the manual's `/health` report.
 *
 * A check is a function that resolves when the dependency answers. Each runs with a short
 * timeout, so a stalled dependency shows as unhealthy instead of hanging the endpoint.
 *
 * Probes read a report at most `maxAgeMs` (1 s) old: a flood of `/health` or `Health/Check`
 * probes costs one round of checks per second, not one per probe, and a lost dependency shows
 * within `maxAgeMs` plus the check timeout (2 s with the defaults). Concurrent probes that find
 * the report stale share one round of checks.
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

/** The outcome of one round of checks. */
interface CheckRound {
  /** When the round started (epoch ms). */
  at: number;
  status: HealthStatus;
  checks: Record<string, "healthy" | "unhealthy">;
}

/** The manual's `/health` body, field for field. */
export interface HealthReport {
  /** `healthy`; `degraded` when only non-critical checks fail; `unhealthy` when a critical one does. */
  status: HealthStatus;
  /** The service's version. */
  version: string;
  /** When the report was made, ISO 8601 UTC to the second. */
  timestamp: string;
  /** Each dependency's state, by name (`database`, `nats`, ...). */
  checks: Record<string, "healthy" | "unhealthy">;
  /** Time since the monitor was created, in Go duration form (`72h30m15s`). */
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
  /** When the monitor was created (epoch ms); uptime counts from it. */
  readonly startedAt: number = Date.now();
  private readonly lastErrors = new Map<string, string>();
  private last?: CheckRound;
  private running?: Promise<CheckRound>;

  /**
   * Creates the monitor; no check runs until a report or status is asked for.
   *
   * @param version The service's version, for the report.
   * @param checks The dependencies to check.
   * @param timeoutMs How long each check may take before it counts as failed.
   */
  constructor(
    readonly version: string,
    private readonly checks: DependencyCheck[],
    private readonly timeoutMs = 1000,
    /** How old a report probes may be served (ms). */
    readonly maxAgeMs = 1000,
  ) {}

  /** The report: checks at most `maxAgeMs` old (run now, once for all waiting, if older). */
  async report(): Promise<HealthReport> {
    const round = await this.current();
    return {
      status: round.status,
      version: this.version,
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      checks: { ...round.checks },
      uptime: formatGoDuration(Date.now() - this.startedAt),
    };
  }

  /** The overall status from checks at most `maxAgeMs` old. */
  async status(): Promise<HealthStatus> {
    const last = this.last;
    if (last && Date.now() - last.at <= this.maxAgeMs) return last.status;
    return (await this.current()).status;
  }

  /** The last round when at most `maxAgeMs` old, else a new one (shared by concurrent callers). */
  private current(): Promise<CheckRound> {
    const last = this.last;
    if (last && Date.now() - last.at <= this.maxAgeMs) return Promise.resolve(last);
    this.running ??= this.runChecks().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs every check concurrently, each bounded by the timeout. */
  private async runChecks(): Promise<CheckRound> {
    const at = Date.now();
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
    const round = { at, status, checks };
    this.last = round;
    return round;
  }

  /** Why each failing dependency failed on its last check (for logs, never for clients). */
  failures(): ReadonlyMap<string, string> {
    return this.lastErrors;
  }

  /** Runs one check bounded by the timeout (aborting its signal then); remembers why it failed. */
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
