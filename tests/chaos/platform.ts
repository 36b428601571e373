/**
 * The platform under chaos: throwaway PostgreSQL, NATS (one server or a three-node JetStream
 * cluster) and Redis, and every service as real processes, several replicas each, on fixed ports
 * so that a replica can be killed and started again where its peers expect it. A replica that
 * exits without being told to is recorded and started again (as an orchestrator would), so the
 * run goes on and the exit is reported.
 *
 * @module
 */
import { NatsCluster, NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { freePort } from "../harness/processes.ts";
import { RedisServer } from "../harness/redis_server.ts";
import {
  ServiceProcess,
  type ServiceRejection,
  serviceRejections,
} from "../harness/service_process.ts";

/** The three services, by folder name. */
export type ServiceName = "users" | "tasks" | "orchestrator";

/** The JWT secret every chaos service shares (the load signs in through the User Service). */
export const CHAOS_SECRET = "chaos-suite-secret-that-is-long-enough-0123456789";

/** Timings that make recovery observable in seconds rather than minutes. */
export const CHAOS_ENV: Record<string, string> = {
  JWT_SECRETS: CHAOS_SECRET,
  LOG_LEVEL: "info",
  HEALTH_CHECK_TIMEOUT_MS: "500",
  DB_QUERY_TIMEOUT_MS: "3000",
  DB_CONNECT_TIMEOUT_SECONDS: "2",
  SHUTDOWN_GRACE_MS: "3000",
  RETRY_INTERVAL_SECONDS: "1",
  SWEEP_INTERVAL_MS: "500",
  USERS_TIMEOUT_MS: "1000",
  USERS_RETRIES: "1",
  USERS_BREAKER_COOLDOWN_MS: "500",
  PROPOSALS_PER_TASK: "3",
  FAIRNESS_MAX_PROPOSALS: "100000",
  EVENT_ACK_WAIT_SECONDS: "5",
  OUTBOX_POLL_MS: "200",
};

/** An exit nobody asked for. */
export interface UnexpectedExit {
  replica: string;
  code: number;
  signal: string | null;
  at: number;
  /** The last lines the process wrote. */
  lastLines: string[];
}

/**
 * One process of a service, on a port of its own that survives restarts.
 *
 * @example
 * ```ts
 * const replica = platform.replica("tasks-1");
 * await replica.stop("SIGKILL");
 * await replica.start();
 * ```
 */
export class Replica {
  proc?: ServiceProcess;
  /** Set while the test itself stops or kills the process. */
  private expectingExit = false;
  private frozen = false;

  constructor(
    readonly service: ServiceName,
    readonly index: number,
    readonly port: number,
    private readonly env: () => Record<string, string>,
    private readonly onUnexpectedExit: (replica: Replica, exit: UnexpectedExit) => void,
    private readonly logDir?: string,
  ) {}

  /** "users-1", "tasks-2", ... */
  get name(): string {
    return `${this.service}-${this.index + 1}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and resolves once it listens. */
  async start(): Promise<void> {
    this.expectingExit = false;
    this.frozen = false;
    const proc = await ServiceProcess.start(this.service, {
      ...this.env(),
      PORT: String(this.port),
    });
    this.proc = proc;
    if (this.logDir) {
      const file = `${this.logDir}/${this.name}.log`;
      const encoder = new TextEncoder();
      for (const line of proc.process.lines) {
        Deno.writeFileSync(file, encoder.encode(`${line}\n`), { append: true });
      }
      proc.process.onLine((line) =>
        Deno.writeFileSync(file, encoder.encode(`${line}\n`), { append: true })
      );
    }
    proc.process.status.then((status) => {
      if (this.proc !== proc || this.expectingExit) return;
      this.proc = undefined;
      this.onUnexpectedExit(this, {
        replica: this.name,
        code: status.code,
        signal: status.signal,
        at: Date.now(),
        lastLines: proc.process.lines.slice(-15),
      });
    });
  }

  /** Sends `signal` and waits for the exit (the test asked for it: not an unexpected exit). */
  async stop(signal: "SIGTERM" | "SIGKILL"): Promise<Deno.CommandStatus | undefined> {
    const proc = this.proc;
    if (!proc) return undefined;
    this.expectingExit = true;
    if (this.frozen) this.unfreeze();
    proc.process.kill(signal);
    const status = await proc.process.status;
    this.proc = undefined;
    return status;
  }

  /** Freezes the process (SIGSTOP). */
  freeze(): void {
    this.frozen = true;
    this.proc?.process.kill("SIGSTOP");
  }

  /** Unfreezes it (SIGCONT). */
  unfreeze(): void {
    this.frozen = false;
    this.proc?.process.kill("SIGCONT");
  }

  /** `/health` as status code and body (status 0 when nothing answers within 2 s). */
  async health(): Promise<{ code: number; status?: string; checks?: Record<string, string> }> {
    try {
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await res.json();
      return { code: res.status, status: body.status, checks: body.checks };
    } catch {
      return { code: 0 };
    }
  }
}

/** How the platform is laid out. */
export interface ChaosPlatformOptions {
  /** Replicas of each service. */
  replicas: number;
  /** One NATS server, or a three-node cluster with streams replicated three times. */
  nats: "single" | "cluster";
  /** More environment for every service. */
  env?: Record<string, string>;
  /** A folder to write each replica's log to (`<replica>.log`, appended across restarts). */
  logDir?: string;
}

/**
 * Dependencies and replicas, started and stopped together.
 *
 * @example
 * ```ts
 * const platform = await ChaosPlatform.start({ replicas: 2, nats: "cluster" });
 * await platform.pg.stop("immediate");
 * await platform.pg.resume();
 * const ms = await platform.waitAllHealthy(30_000);
 * await platform.stop();
 * ```
 */
export class ChaosPlatform {
  readonly replicas: Replica[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Unhandled rejections the services logged (each survived it; each is a bug). */
  readonly rejections: ServiceRejection[] = [];

  private constructor(
    readonly pg: PostgresServer,
    readonly nats: NatsServer | NatsCluster,
    readonly redis: RedisServer,
    readonly databaseUrl: string,
    private readonly options: ChaosPlatformOptions,
  ) {}

  /**
   * Starts the dependencies, then the User Service replicas, then the Task Service and the
   * orchestrator replicas (orchestrator n asks User Service replica n).
   */
  static async start(options: ChaosPlatformOptions): Promise<ChaosPlatform> {
    const [pg, nats, redis] = await Promise.all([
      // Commits acknowledged before a kill -9 must survive it: durable commits.
      PostgresServer.start({ durable: true }),
      options.nats === "cluster" ? NatsCluster.start(3) : NatsServer.start(),
      RedisServer.start(),
    ]);
    const databaseUrl = await pg.createDatabase("freelance_platform");
    const platform = new ChaosPlatform(pg, nats, redis, databaseUrl, options);
    // Reported with the run's figures (a failure of the run), not thrown at whatever runs.
    serviceRejections.handle = (rejection) => {
      platform.rejections.push(rejection);
      console.error(`!! ${rejection.service} logged an unhandled rejection:\n   ${rejection.line}`);
    };
    const usersPorts = Array.from({ length: options.replicas }, () => freePort());
    for (const service of ["users", "tasks", "orchestrator"] as const) {
      for (let i = 0; i < options.replicas; i++) {
        const port = service === "users" ? usersPorts[i] : freePort();
        const env = () => ({
          ...CHAOS_ENV,
          DATABASE_URL: databaseUrl,
          NATS_URL: nats.url,
          REDIS_URL: redis.url,
          NATS_STREAM_REPLICAS: options.nats === "cluster" ? "3" : "1",
          USERS_URL: `http://127.0.0.1:${usersPorts[i]}`,
          ...options.env,
        });
        platform.replicas.push(
          new Replica(
            service,
            i,
            port,
            env,
            (replica, exit) => platform.recordExit(replica, exit),
            options.logDir,
          ),
        );
      }
      // Replicas of one service start one after the other: the first applies the migrations.
      for (const replica of platform.service(service)) await replica.start();
    }
    await platform.waitAllHealthy(60_000);
    return platform;
  }

  /** The replicas of one service. */
  service(name: ServiceName): Replica[] {
    return this.replicas.filter((r) => r.service === name);
  }

  /** The replica called `name` ("tasks-1"). */
  replica(name: string): Replica {
    const found = this.replicas.find((r) => r.name === name);
    if (!found) throw new Error(`no replica ${name}`);
    return found;
  }

  /**
   * Waits until every replica answers `/health` with 200 and status "healthy"; resolves with the
   * milliseconds it took, or rejects after `timeoutMs` naming the replicas still unhealthy.
   * {@link lastWait} says which replica was healthy last and what it answered before.
   */
  async waitAllHealthy(timeoutMs: number, pollMs = 100): Promise<number> {
    const started = Date.now();
    let last: string[] = [];
    const pending = new Map<string, string>();
    this.lastWait = "";
    while (Date.now() - started < timeoutMs) {
      const reports = await Promise.all(
        this.replicas.map(async (r) => [r, await r.health()] as const),
      );
      last = [];
      for (const [r, h] of reports) {
        const state = `${h.code} ${h.status ?? ""} ${JSON.stringify(h.checks ?? {})}`;
        if (h.code !== 200 || h.status !== "healthy") {
          last.push(`${r.name}: ${state}`);
          pending.set(r.name, `${r.name} after ${Date.now() - started} ms: ${state}`);
        }
      }
      if (last.length === 0) {
        this.lastWait = [...pending.values()].pop() ?? "";
        return Date.now() - started;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error(`not healthy within ${timeoutMs} ms:\n  ${last.join("\n  ")}`);
  }

  /** The last replica {@link waitAllHealthy} waited for, and what it answered last. */
  lastWait = "";

  /** Stops every replica, then the dependencies, and removes their files. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.replicas.map((r) => r.stop("SIGTERM")));
    await Promise.allSettled([this.pg.destroy(), this.nats.destroy(), this.redis.stop()]);
  }

  private recordExit(replica: Replica, exit: UnexpectedExit): void {
    this.unexpectedExits.push(exit);
    console.error(
      `!! ${replica.name} exited unexpectedly (code ${exit.code}, signal ${exit.signal})`,
    );
    for (const line of exit.lastLines) console.error(`   ${line}`);
    // Started again, as an orchestrator would (retrying while it fails to start), so that the
    // run goes on with every replica.
    const restart = async () => {
      for (let attempt = 1; attempt <= 60; attempt++) {
        try {
          return await replica.start();
        } catch {
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      console.error(`!! ${replica.name} did not start again within 60 attempts`);
    };
    restart();
  }
}
