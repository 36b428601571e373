/**
 * The whole platform for browser tests: throwaway PostgreSQL, NATS JetStream and Redis, the three
 * services on fixed free ports (so one can be stopped and started again where the page expects
 * it), and the web server on its own origin, which the services' CORS_ORIGINS allow.
 *
 * @module
 */
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { freePort, waitUntil } from "../harness/processes.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";

/** How the platform's web servers run. */
export interface WebPlatformOptions {
  /** More environment for every web server, such as `WEB_REFRESH_SECONDS: "0"` (no polling). */
  webEnv?: Record<string, string>;
}

/** The services the platform runs. */
export type PlatformService = "users" | "tasks" | "orchestrator";

const SECRET = "web-test-secret-that-is-long-enough-0123456789";

/** A running platform with its web app. */
export class WebPlatform {
  readonly services = new Map<PlatformService, ServiceProcess>();
  readonly webServers: ServiceProcess[] = [];

  private constructor(
    readonly pg: PostgresServer,
    readonly nats: NatsServer,
    readonly redis: RedisServer,
    readonly databaseUrl: string,
    readonly ports: Record<PlatformService | "web", number>,
    private readonly webEnv: Record<string, string>,
  ) {}

  /**
   * Starts everything; resolves when the orchestrator consumes events and the web app serves.
   *
   * @example
   * ```ts
   * const platform = await WebPlatform.start({ webEnv: { WEB_REFRESH_SECONDS: "0" } });
   * await page.goto(platform.webUrl);
   * ```
   */
  static async start(options: WebPlatformOptions = {}): Promise<WebPlatform> {
    const [pg, nats, redis] = await Promise.all([
      PostgresServer.start(),
      NatsServer.start(),
      RedisServer.start(),
    ]);
    const databaseUrl = await pg.createDatabase("freelance_platform");
    const platform = new WebPlatform(pg, nats, redis, databaseUrl, {
      users: freePort(),
      tasks: freePort(),
      orchestrator: freePort(),
      web: freePort(),
    }, options.webEnv ?? {});
    try {
      await platform.startService("users");
      await Promise.all([platform.startService("tasks"), platform.startService("orchestrator")]);
      await platform.startWeb(platform.ports.web);
    } catch (error) {
      await platform.stop();
      throw error;
    }
    return platform;
  }

  /** The web app's origin, which the services allow. */
  get webUrl(): string {
    return `http://127.0.0.1:${this.ports.web}`;
  }

  /** A service's base URL. */
  url(service: PlatformService): string {
    return `http://127.0.0.1:${this.ports[service]}`;
  }

  /** The environment every service gets: fast timings, one secret, CORS for the web app. */
  private serviceEnv(service: PlatformService): Record<string, string> {
    return {
      PORT: String(this.ports[service]),
      DATABASE_URL: this.databaseUrl,
      NATS_URL: this.nats.url,
      REDIS_URL: this.redis.url,
      JWT_SECRETS: SECRET,
      CORS_ORIGINS: this.webUrl,
      USERS_URL: this.url("users"),
      TASKS_URL: this.url("tasks"),
      RETRY_INTERVAL_SECONDS: "1",
      SWEEP_INTERVAL_MS: "250",
      USERS_TIMEOUT_MS: "1000",
      USERS_RETRIES: "1",
      USERS_BREAKER_COOLDOWN_MS: "500",
      PROPOSALS_PER_TASK: "3",
      EVENT_ACK_WAIT_SECONDS: "5",
      OUTBOX_POLL_MS: "200",
      SHUTDOWN_GRACE_MS: "1000",
    };
  }

  /**
   * (Re)starts a service on its fixed port.
   *
   * @example
   * ```ts
   * await platform.stopService("tasks");
   * await platform.startService("tasks");
   * ```
   */
  async startService(service: PlatformService): Promise<ServiceProcess> {
    const process = await ServiceProcess.start(service, this.serviceEnv(service));
    this.services.set(service, process);
    if (service === "orchestrator") {
      await waitUntil(
        () => {
          const consuming = process.logs().filter((l) => l.msg === "consuming").length;
          return consuming >= 2 ? Promise.resolve() : Promise.reject(new Error("not consuming"));
        },
        30_000,
        "orchestrator consumers",
      );
    }
    return process;
  }

  /** Stops a service (SIGTERM, graceful). */
  async stopService(service: PlatformService): Promise<void> {
    await this.services.get(service)?.stop();
    this.services.delete(service);
  }

  /**
   * Starts a web server on `port` whose page calls these services (a second one on a port the
   * services do not allow is a disallowed origin; `WEB_SAME_ORIGIN=true` puts it behind the edge).
   *
   * @example
   * ```ts
   * const other = await platform.startWeb(freePort());
   * ```
   */
  async startWeb(port: number, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const web = await ServiceProcess.start("web", {
      WEB_PORT: String(port),
      USERS_PORT: String(this.ports.users),
      TASKS_PORT: String(this.ports.tasks),
      ORCHESTRATOR_PORT: String(this.ports.orchestrator),
      ...this.webEnv,
      ...env,
    }, "web/main.ts");
    this.webServers.push(web);
    return web;
  }

  /** Stops everything it started. */
  async stop(): Promise<void> {
    await Promise.all([...this.webServers].map((w) => w.stop()));
    await Promise.all([...this.services.keys()].map((s) => this.stopService(s)));
    await this.redis.stop();
    await this.nats.stop();
    await this.pg.destroy();
  }
}
