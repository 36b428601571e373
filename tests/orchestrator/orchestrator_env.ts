/**
 * The whole platform for orchestrator tests: throwaway PostgreSQL, NATS JetStream and Redis, and
 * the real User, Task and Orchestrator processes sharing one database and one JWT secret.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { TaskCreatedSchema } from "@platform/proto/events/v1";
import { OrchestratorService } from "@platform/proto/orchestrator/v1";
import { Role, UserService } from "@platform/proto/users/v1";
import postgres from "postgres";
import { encodeEvent, ensurePlatformStreams, EVENTS } from "@platform/lib/events";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { freePort, waitUntil } from "../harness/processes.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { rpcClient } from "../harness/rpc_clients.ts";
import { ServiceProcess } from "../harness/service_process.ts";

/** The secret every test service signs and verifies with. */
export const TEST_SECRET = "orchestrator-test-secret-long-enough-0123456789";

/** Fast timings for tests. */
export const FAST_ENV: Record<string, string> = {
  JWT_SECRETS: TEST_SECRET,
  RETRY_INTERVAL_SECONDS: "1",
  SWEEP_INTERVAL_MS: "250",
  USERS_TIMEOUT_MS: "1000",
  USERS_RETRIES: "1",
  USERS_BREAKER_COOLDOWN_MS: "500",
  PROPOSALS_PER_TASK: "3",
  EVENT_ACK_WAIT_SECONDS: "5",
  OUTBOX_POLL_MS: "200",
  TASK_EXPIRY_SWEEP_MS: "200",
  WATCH_KEEPALIVE_SECONDS: "1",
};

/** A running platform. */
export class PlatformEnv {
  readonly orchestrators: ServiceProcess[] = [];
  users?: ServiceProcess;
  tasks?: ServiceProcess;
  nc?: NatsConnection;
  sql?: postgres.Sql;

  private constructor(
    readonly pg: PostgresServer,
    readonly nats: NatsServer,
    readonly redis: RedisServer,
    readonly databaseUrl: string,
    readonly usersPort: number,
  ) {}

  /** Starts the servers and the User Service (the Task Service and orchestrators on demand). */
  static async start(): Promise<PlatformEnv> {
    const [pg, nats, redis] = await Promise.all([
      PostgresServer.start(),
      NatsServer.start(),
      RedisServer.start(),
    ]);
    const databaseUrl = await pg.createDatabase("freelance_platform");
    const env = new PlatformEnv(pg, nats, redis, databaseUrl, freePort());
    await env.startUsers();
    env.nc = await connect({ servers: nats.url.replace("nats://", "") });
    await ensurePlatformStreams(env.nc);
    env.sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
    return env;
  }

  get js(): JetStreamClient {
    return jetstream(this.nc!);
  }

  /** The environment shared by the services. */
  serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...FAST_ENV,
      DATABASE_URL: this.databaseUrl,
      NATS_URL: this.nats.url,
      REDIS_URL: this.redis.url,
      USERS_URL: `http://127.0.0.1:${this.usersPort}`,
      ...extra,
    };
  }

  /** (Re)starts the User Service on its fixed port. */
  async startUsers(): Promise<void> {
    this.users = await ServiceProcess.start(
      "users",
      this.serviceEnv({ PORT: String(this.usersPort) }),
    );
  }

  async stopUsers(): Promise<void> {
    await this.users?.stop();
    this.users = undefined;
  }

  async startTasks(): Promise<ServiceProcess> {
    this.tasks = await ServiceProcess.start("tasks", this.serviceEnv());
    return this.tasks;
  }

  async startOrchestrator(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const orchestrator = await ServiceProcess.start("orchestrator", this.serviceEnv(extra));
    this.orchestrators.push(orchestrator);
    // Ready when its consumers are attached.
    await waitUntil(
      () => {
        const n = orchestrator.logs().filter((l) => l.msg === "consuming").length;
        if (n < 2) throw new Error("consumers not started");
        return Promise.resolve();
      },
      30_000,
      "orchestrator consumers",
    ).catch((error) => {
      throw new Error(`${error.message}\n${orchestrator.process.lines.slice(-20).join("\n")}`);
    });
    return orchestrator;
  }

  /** A client of the first orchestrator. */
  orchestrator(token: string) {
    return rpcClient(OrchestratorService, this.orchestrators[0].url, undefined, token);
  }

  /** Registers, logs in; developers also set their skills and go online. */
  async signUp(
    role: "client" | "developer",
    skills: string[] = [],
    hourlyRateMinor = 5000,
  ): Promise<{ id: string; token: string }> {
    const anonymous = rpcClient(UserService, this.users!.url);
    const email = `${role}-${crypto.randomUUID().slice(0, 12)}@example.com`;
    const password = "correct horse battery staple";
    const { user } = await anonymous.register({
      email,
      password,
      role: role === "client" ? Role.CLIENT : Role.DEVELOPER,
      displayName: `${role} ${email.slice(role.length + 1, role.length + 7)}`,
    });
    const { accessToken } = await anonymous.login({ email, password });
    if (role === "developer") {
      const me = rpcClient(UserService, this.users!.url, undefined, accessToken);
      await me.updateProfile({
        skillTags: { tags: skills },
        hourlyRate: { currency: "USD", amountMinor: BigInt(hourlyRateMinor) },
      });
      await me.goOnline({});
    }
    return { id: user!.id, token: accessToken };
  }

  /** Publishes a task.created event as the Task Service would. */
  async publishTaskCreated(
    fields: { taskId?: string; clientId: string; skills: string[]; budgetMinor?: number },
    eventId = crypto.randomUUID(),
  ): Promise<string> {
    const taskId = fields.taskId ?? crypto.randomUUID();
    const event = create(TaskCreatedSchema, {
      eventId,
      taskId,
      clientId: fields.clientId,
      title: "Test task",
      requiredSkills: fields.skills,
      budget: { currency: "USD", amountMinor: BigInt(fields.budgetMinor ?? 200_000) },
    });
    await this.js.publish(EVENTS.taskCreated.subject, encodeEvent(TaskCreatedSchema, event), {
      msgID: eventId,
    });
    return taskId;
  }

  /** Proposals of a task, straight from the database. */
  async proposals(
    taskId: string,
  ): Promise<Array<{ id: string; developer_id: string; status: string }>> {
    return await this.sql!<Array<{ id: string; developer_id: string; status: string }>>`
      SELECT id, developer_id, status FROM proposals WHERE task_id = ${taskId} ORDER BY score DESC`;
  }

  /** Waits until `check` resolves. */
  eventually<T>(check: () => Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
    let value: T;
    return waitUntil(
      async () => {
        value = await check();
      },
      timeoutMs,
      what,
    ).then(() => value!);
  }

  /** Reads a metric value (sum over label sets) from a service. */
  async metric(service: ServiceProcess, name: string): Promise<number> {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    let total = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return total;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.orchestrators.map((o) => o.stop()));
    await this.tasks?.stop().catch(() => {});
    await this.users?.stop().catch(() => {});
    await this.nc?.close().catch(() => {});
    await this.sql?.end({ timeout: 1 }).catch(() => {});
    await Promise.allSettled([this.pg.destroy(), this.nats.destroy(), this.redis.stop()]);
  }
}
