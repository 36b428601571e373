/**
 * Steady load on every replica while faults come and go: clients creating tasks (round robin over
 * the Task Service replicas), developers heart-beating (User Service replicas) and accepting the
 * proposals they get (orchestrator replicas). Every call that was acknowledged (answered OK) is
 * recorded with the phase it happened in; a call that failed or timed out was not acknowledged
 * and promises nothing.
 *
 * @module
 */
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { NotificationService } from "@platform/proto/notifications/v1";
import { Decision, OrchestratorService, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { TaskService } from "@platform/proto/tasks/v1";
import { Role, UserService } from "@platform/proto/users/v1";
import { rpcClient } from "../harness/rpc_clients.ts";
import type { ChaosPlatform, Replica, ServiceName } from "./platform.ts";

/** Codes after which the outcome of a CreateTask is open: retried with the same key. */
const RETRYABLE = new Set([Code.Unavailable, Code.Unknown, Code.DeadlineExceeded, Code.Aborted]);

/** The skill every load task requires and every load developer has. */
export const LOAD_SKILL = "chaos";

/** A task whose CreateTask was acknowledged. */
export interface AckedTask {
  taskId: string;
  phase: string;
  at: number;
}

/** A proposal whose acceptance was acknowledged. */
export interface AckedAccept {
  proposalId: string;
  taskId: string;
  developerId: string;
  phase: string;
  at: number;
}

/** Settings of the load. */
export interface LoadOptions {
  /** CreateTask calls per second, over all clients. */
  createPerSecond: number;
  clients: number;
  developers: number;
  /** Each developer heart-beats this often. */
  heartbeatMs: number;
  /** Every this often one developer looks at its proposals and accepts the first pending one. */
  acceptEveryMs: number;
  /** Deadline of every call. */
  callTimeoutMs: number;
  /** Developers that keep a notification stream (Watch) open, reopening it when it ends. */
  watchers?: number;
  /** Runs `deno task doctor` (the operator's check) this often, one at a time; 0: never. */
  doctorEveryMs?: number;
}

interface Account {
  id: string;
  token: string;
}

/**
 * The load generator.
 *
 * @example
 * ```ts
 * const load = new SteadyLoad(platform, {
 *   createPerSecond: 10, clients: 5, developers: 20, heartbeatMs: 3000, acceptEveryMs: 1000,
 *   callTimeoutMs: 3000,
 * });
 * await load.prepare();
 * load.start();
 * load.phase = "postgres stop -m fast";
 * await load.stop();
 * ```
 */
export class SteadyLoad {
  readonly tasks: AckedTask[] = [];
  readonly accepts: AckedAccept[] = [];
  /** Calls that failed, by phase and "method code". */
  readonly failures = new Map<string, Map<string, number>>();
  /**
   * CreateTask's idempotency keys: those whose call ended in an error (after its retries), the
   * retries sent, and the calls acknowledged after a retry.
   */
  readonly keys = {
    errored: new Set<string>(),
    retries: 0,
    retriedThenAcked: 0,
    /** Attempts answered `unavailable` ("nothing was done"): when each started and ended. */
    unavailable: [] as Array<{ key: string; from: number; to: number }>,
  };
  /** Notification frames received on the Watch streams, and the streams (re)opened. */
  readonly watch = { frames: 0, opened: 0 };
  /** `doctor` runs, by exit code. */
  readonly doctorRuns = new Map<number, number>();
  /** The phase acknowledged calls are attributed to. */
  phase = "warm-up";
  private running = false;
  private loops: Promise<void>[] = [];
  private clients: Account[] = [];
  private developers: Account[] = [];
  private turn = 0;

  constructor(private readonly platform: ChaosPlatform, private readonly options: LoadOptions) {}

  /**
   * Registers the clients and developers (skills set, online), a few at a time (password
   * hashing is deliberately slow) and retrying a sign-up that failed.
   */
  async prepare(): Promise<void> {
    const users = this.platform.service("users")[0];
    const signUps = async (role: "client" | "developer", count: number) => {
      const accounts: Account[] = [];
      for (let i = 0; i < count; i += 4) {
        const batch = Array.from({ length: Math.min(4, count - i) }, async () => {
          for (let attempt = 1;; attempt++) {
            try {
              return await this.signUp(users, role);
            } catch (error) {
              if (attempt >= 5) throw error;
              await sleep(500);
            }
          }
        });
        accounts.push(...await Promise.all(batch));
      }
      return accounts;
    };
    this.clients = await signUps("client", this.options.clients);
    this.developers = await signUps("developer", this.options.developers);
  }

  /** Starts every loop. */
  start(): void {
    this.running = true;
    const perClientMs = 1000 * this.options.clients / this.options.createPerSecond;
    this.loops = [
      ...this.clients.map((client, i) =>
        this.every(
          perClientMs,
          i * perClientMs / this.clients.length,
          () => this.createTask(client),
        )
      ),
      ...this.developers.map((dev, i) =>
        this.every(
          this.options.heartbeatMs,
          (i * this.options.heartbeatMs) / this.developers.length,
          () => this.heartbeat(dev),
        )
      ),
      this.every(this.options.acceptEveryMs, 0, () => this.acceptOne()),
      ...this.developers.slice(0, this.options.watchers ?? 0).map((dev) =>
        this.every(200, 0, () => this.watchUntilEnd(dev))
      ),
      ...(this.options.doctorEveryMs
        ? [this.every(this.options.doctorEveryMs, 500, () => this.runDoctor())]
        : []),
    ];
  }

  /** Stops the loops and waits for the calls in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Acknowledged CreateTask calls of a phase. */
  tasksOf(phase: string): AckedTask[] {
    return this.tasks.filter((t) => t.phase === phase);
  }

  /** Acknowledged accepts of a phase. */
  acceptsOf(phase: string): AckedAccept[] {
    return this.accepts.filter((a) => a.phase === phase);
  }

  /** Failed calls of a phase, total. */
  failuresOf(phase: string): number {
    return [...(this.failures.get(phase)?.values() ?? [])].reduce((a, b) => a + b, 0);
  }

  private async every(periodMs: number, offsetMs: number, work: () => Promise<void>) {
    await sleep(offsetMs);
    while (this.running) {
      const started = Date.now();
      await work();
      await sleep(Math.max(0, periodMs - (Date.now() - started)));
    }
  }

  /** The next replica of a service, round robin over those running. */
  private next(service: ServiceName): Replica {
    const replicas = this.platform.service(service);
    return replicas[this.turn++ % replicas.length];
  }

  private async call<T>(method: string, work: () => Promise<T>): Promise<T | undefined> {
    const phase = this.phase;
    try {
      return await work();
    } catch (error) {
      const code = error instanceof ConnectError ? Code[error.code] : "transport";
      const byKey = this.failures.get(phase) ?? new Map<string, number>();
      byKey.set(`${method} ${code}`, (byKey.get(`${method} ${code}`) ?? 0) + 1);
      this.failures.set(phase, byKey);
      return undefined;
    }
  }

  /**
   * One logical CreateTask with its own idempotency key (also written into the description, so
   * the audit can count the tasks stored per key): an answer that leaves the outcome open
   * (unavailable, unknown, deadline_exceeded, a transport error) is retried with the same key,
   * up to twice, as the typed client does.
   */
  private async createTask(client: Account): Promise<void> {
    const phase = this.phase;
    const key = crypto.randomUUID();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const replica = this.next("tasks");
      const tasks = rpcClient(TaskService, replica.url, undefined, client.token);
      let retryable = false;
      const from = Date.now();
      const response = await this.call("CreateTask", async () => {
        try {
          return await tasks.createTask({
            title: "Chaos task",
            description: `created under faults; key ${key}`,
            requiredSkills: [LOAD_SKILL],
            budget: { currency: "USD", amountMinor: 250_000n },
            idempotencyKey: key,
          }, { timeoutMs: this.options.callTimeoutMs });
        } catch (error) {
          const code = error instanceof ConnectError ? error.code : undefined;
          retryable = code === undefined || RETRYABLE.has(code);
          if (code === Code.Unavailable) this.keys.unavailable.push({ key, from, to: Date.now() });
          throw error;
        }
      });
      if (response?.task) {
        this.tasks.push({ taskId: response.task.id, phase, at: Date.now() });
        if (attempt > 1) this.keys.retriedThenAcked++;
        return;
      }
      if (!retryable || !this.running) break;
      this.keys.retries++;
      await sleep(200 * attempt);
    }
    this.keys.errored.add(key);
  }

  private async heartbeat(dev: Account): Promise<void> {
    const users = rpcClient(UserService, this.next("users").url, undefined, dev.token);
    await this.call(
      "Heartbeat",
      () => users.heartbeat({}, { timeoutMs: this.options.callTimeoutMs }),
    );
  }

  private async acceptOne(): Promise<void> {
    const dev = this.developers[Math.floor(Math.random() * this.developers.length)];
    const orchestrator: Client<typeof OrchestratorService> = rpcClient(
      OrchestratorService,
      this.next("orchestrator").url,
      undefined,
      dev.token,
    );
    const phase = this.phase;
    const listed = await this.call("ListProposals", () =>
      orchestrator.listProposals(
        { status: ProposalStatus.PENDING, pageSize: 5 },
        { timeoutMs: this.options.callTimeoutMs },
      ));
    const proposal = listed?.proposals[0];
    if (!proposal) return;
    const answered = await this.call("RespondToProposal", async () => {
      try {
        return await orchestrator.respondToProposal(
          { proposalId: proposal.id, decision: Decision.ACCEPT },
          { timeoutMs: this.options.callTimeoutMs },
        );
      } catch (error) {
        // Someone else's proposal for the task was accepted first: an answer, not a failure.
        if (error instanceof ConnectError && error.code === Code.FailedPrecondition) return;
        throw error;
      }
    });
    if (answered?.proposal?.status === ProposalStatus.ACCEPTED) {
      this.accepts.push({
        proposalId: proposal.id,
        taskId: proposal.taskId,
        developerId: dev.id,
        phase,
        at: Date.now(),
      });
    }
  }

  /** Keeps one Watch stream open until it ends (a replica restarted, a stop) or the load stops. */
  private async watchUntilEnd(dev: Account): Promise<void> {
    const replica = this.next("orchestrator");
    const notifications = rpcClient(NotificationService, replica.url, undefined, dev.token);
    const stop = new AbortController();
    const stopper = setInterval(() => this.running || stop.abort(), 200);
    try {
      this.watch.opened++;
      for await (const _ of notifications.watch({}, { signal: stop.signal })) {
        this.watch.frames++;
      }
    } catch {
      // Ended by a fault or by the stop: reopened by the loop while the load runs.
    } finally {
      clearInterval(stopper);
    }
  }

  /** One `deno task doctor --json` against the platform, as an operator would run it. */
  private async runDoctor(): Promise<void> {
    const [users, tasks, orchestrator] = (["users", "tasks", "orchestrator"] as const)
      .map((s) => this.platform.service(s)[0].url);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("../../ops/doctor.ts", import.meta.url).pathname,
        "--json",
      ],
      env: {
        DATABASE_URL: this.platform.databaseUrl,
        NATS_URL: this.platform.nats.url,
        REDIS_URL: this.platform.redis.url,
        USERS_URL: users,
        TASKS_URL: tasks,
        ORCHESTRATOR_URL: orchestrator,
      },
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    this.doctorRuns.set(code, (this.doctorRuns.get(code) ?? 0) + 1);
  }

  private async signUp(users: Replica, role: "client" | "developer"): Promise<Account> {
    const anonymous = rpcClient(UserService, users.url);
    const email = `${role}-${crypto.randomUUID().slice(0, 12)}@chaos.example.com`;
    const password = "correct horse battery staple";
    const { user } = await anonymous.register({
      email,
      password,
      role: role === "client" ? Role.CLIENT : Role.DEVELOPER,
      displayName: `${role} ${email.slice(role.length + 1, role.length + 7)}`,
    });
    const { accessToken } = await anonymous.login({ email, password });
    if (role === "developer") {
      const me = rpcClient(UserService, users.url, undefined, accessToken);
      await me.updateProfile({
        skillTags: { tags: [LOAD_SKILL] },
        hourlyRate: { currency: "USD", amountMinor: 5000n },
      });
      await me.goOnline({});
    }
    return { id: user!.id, token: accessToken };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
