/**
 * The marketplace loop in one process for race tests: the Task Service's and the Orchestrator's
 * real commands and event handlers on one real (throwaway) PostgreSQL, with the events carried
 * from their outboxes to the handlers by a bus that delivers them like a pool of JetStream
 * consumers would: in rounds, shuffled, concurrently, some twice, a failed one again later. The
 * transport (NATS) is what the end-to-end tests exercise; here it is the interleavings.
 *
 * Candidates come from a fixed directory (our own CandidateSource interface), by skill.
 *
 * @module
 */
import type { ConsumedEvent } from "@platform/lib/events";
import { isBadDataError, MalformedEventError, UnprocessableEventError } from "@platform/lib/events";
import { Database, migrate, readMigrations } from "@platform/lib/db";
import { Logger } from "@platform/lib/log";
import { Metrics } from "@platform/lib/metrics";
import { orchestratorMetrics } from "../../services/orchestrator/app.ts";
import { ExpirySweeper } from "../../services/orchestrator/expiry_sweeper.ts";
import { Matcher } from "../../services/orchestrator/matcher.ts";
import type { CandidateProfile } from "../../services/orchestrator/matching/scoring.ts";
import { presenceHandler } from "../../services/orchestrator/presence_consumer.ts";
import { ProposalCommands } from "../../services/orchestrator/proposal_commands.ts";
import { ProposalStore } from "../../services/orchestrator/proposal_store.ts";
import { taskCreatedHandler } from "../../services/orchestrator/task_created_consumer.ts";
import { taskEventsHandler } from "../../services/orchestrator/task_events_consumer.ts";
import { handleProposalAccepted } from "../../services/tasks/proposal_accepted_consumer.ts";
import { recordProposalHolder } from "../../services/tasks/proposal_holders_consumer.ts";
import { TaskCommands } from "../../services/tasks/task_commands.ts";
import { TaskStore } from "../../services/tasks/task_store.ts";
import { PresenceCommands } from "../../services/users/presence_commands.ts";
import { UserStore } from "../../services/users/user_store.ts";
import type { PostgresServer } from "../harness/postgres_server.ts";

const root = new URL("../../", import.meta.url);

/** One delivered event, kept for assertions. */
export interface Delivered {
  subject: string;
  payload: Record<string, unknown>;
}

/** The two services' commands on one database, and the bus between them. */
export class LoopSim {
  readonly logger = new Logger("sim", "error");
  readonly tasks: TaskCommands;
  readonly orchestrator: ProposalCommands;
  readonly matcher: Matcher;
  readonly sweeper: ExpirySweeper;
  /** Developers by skill: the directory the matcher asks. */
  readonly directory = new Map<string, CandidateProfile[]>();
  /** Developers the directory no longer lists (went offline at the User Service). */
  readonly offline = new Set<string>();
  /** Every notification delivered, by user id. */
  readonly notifications: Delivered[] = [];
  /** Handler failures that were retried, by SQLSTATE (a deadlock would show as 40P01). */
  readonly retried = new Map<string, number>();
  private readonly handlers: Array<[RegExp, (e: ConsumedEvent) => Promise<unknown>]>;

  private constructor(readonly db: Database) {
    this.tasks = new TaskCommands(new TaskStore(db));
    this.orchestrator = new ProposalCommands(new ProposalStore(db), { logger: this.logger });
    const metrics = orchestratorMetrics(new Metrics());
    this.matcher = new Matcher(
      this.orchestrator,
      {
        // The User Service's RankCandidates over the in-memory directory: online developers
        // with any of the skills, the excluded left out (the ranking itself is not under test).
        rankCandidates: (query) =>
          Promise.resolve(
            [...new Set(query.skills.flatMap((s) => this.directory.get(s) ?? []))]
              .filter((d) =>
                !this.offline.has(d.developerId) && !query.exclude.includes(d.developerId)
              )
              .slice(0, query.limit),
          ),
      },
      {
        params: {
          weights: { skill: 0.4, trackRecord: 0.2, rate: 0.15, load: 0.15, fairness: 0.1 },
          minSkillCoverage: 0.5,
          rateReferenceHours: 10,
          fairnessMaxProposals: 1_000_000,
        },
        proposalsPerTask: 2,
        proposalTtlSeconds: 3600,
        retryIntervalSeconds: 1,
        unmatchedRecheckSeconds: 0,
        fairnessWindowSeconds: 3600,
      },
      metrics,
      this.logger,
    );
    this.sweeper = new ExpirySweeper(this.orchestrator, this.matcher, this.logger, {
      intervalMs: 1000,
      leaseSeconds: 30,
      batchSize: 500,
      concurrency: 16,
    });
    const taskEvents = taskEventsHandler(this.orchestrator, this.logger, this.matcher);
    const presence = presenceHandler(this.orchestrator, {
      minSkillCoverage: 0.5,
      fairnessMaxProposals: 1_000_000,
      fairnessWindowSeconds: 3600,
      limit: 20,
    }, this.logger);
    const created = taskCreatedHandler(this.orchestrator, this.matcher, 30);
    const taskStore = this.tasks.store;
    this.handlers = [
      [/^task\.created$/, created],
      [/^task\./, taskEvents],
      [/^proposal\.accepted$/, async (e) => {
        await handleProposalAccepted(this.tasks, this.logger, e.data);
        await recordProposalHolder(taskStore, e.subject, e.data);
      }],
      [/^proposal\./, (e) => recordProposalHolder(taskStore, e.subject, e.data)],
      [/^presence\./, presence],
    ];
  }

  /** Migrates the Task Service's, the Orchestrator's and the User Service's tables into `db`. */
  static async start(pg: PostgresServer, name: string): Promise<LoopSim> {
    const db = new Database(await pg.createDatabase(name), {
      maxConnections: 30,
      maxLifetimeSeconds: 300,
      idleTimeoutSeconds: 30,
      connectTimeoutSeconds: 5,
      queryTimeoutMs: 20_000,
    }, "loop-sim");
    for (const service of ["tasks", "orchestrator", "users"]) {
      await migrate(
        db.sql,
        service,
        await readMigrations(new URL(`services/${service}/migrations/`, root)),
      );
    }
    return new LoopSim(db);
  }

  /** A User Service's presence commands on the same database (for presence.* events). */
  presence(ttlSeconds = 60): PresenceCommands {
    return new PresenceCommands(this.db, new UserStore(this.db), ttlSeconds);
  }

  /**
   * Runs {@link round}s until two in a row find nothing to do.
   */
  async drain(maxRounds = 60): Promise<void> {
    let quiet = 0;
    for (let round = 0; round < maxRounds; round++) {
      if (await this.round() > 0) {
        quiet = 0;
      } else if (++quiet >= 2) {
        return;
      }
    }
    throw new Error(`the loop did not settle within ${maxRounds} rounds`);
  }

  /**
   * One round: the orchestrator's sweep, the Task Service's expiry, then every event waiting in
   * the outboxes, shuffled and delivered at once (about one in five twice); a handler that fails is
   * retried in a later round. Returns how much happened (0: nothing).
   */
  async round(): Promise<number> {
    const swept = await this.sweeper.sweepOnce();
    const expired = await this.tasks.expireDue(500);
    const events = await this.take();
    const batch = [...events, ...events.filter(() => Math.random() < 0.2)];
    shuffle(batch);
    const failed: typeof events = [];
    await Promise.all(batch.map(async (event) => {
      try {
        await this.deliver(event.subject, event.payload);
      } catch (error) {
        if (
          error instanceof MalformedEventError || error instanceof UnprocessableEventError ||
          isBadDataError(error)
        ) {
          throw error; // the loop's own events are never malformed
        }
        const code = (error as { code?: string }).code ?? "other";
        this.retried.set(code, (this.retried.get(code) ?? 0) + 1);
        failed.push(event);
      }
    }));
    if (failed.length > 0) await this.requeue(failed);
    return events.length + swept.attempted + swept.expired + swept.reopened + expired;
  }

  /** Runs rounds back to back until `stop` resolves (events flow while a race runs). */
  async pump(stop: Promise<unknown>): Promise<void> {
    let stopped = false;
    void stop.finally(() => (stopped = true));
    while (!stopped) {
      await this.round();
      await new Promise((r) => setTimeout(r, Math.random() * 10));
    }
  }

  private async deliver(subject: string, payload: Record<string, unknown>): Promise<void> {
    if (subject.startsWith("notify.")) {
      this.notifications.push({ subject, payload });
      return;
    }
    const handler = this.handlers.find(([pattern]) => pattern.test(subject))?.[1];
    if (!handler) return;
    await handler({
      subject,
      data: new TextEncoder().encode(JSON.stringify(payload)),
      deliveryCount: 1,
      streamSequence: 0,
    } as unknown as ConsumedEvent);
  }

  /** Unpublished rows of every outbox, marked published (as a relay would). */
  private async take(): Promise<Array<{ subject: string; payload: Record<string, unknown> }>> {
    const rows: Array<{ subject: string; payload: Record<string, unknown> }> = [];
    for (const table of ["task_outbox", "proposal_outbox", "user_outbox"]) {
      rows.push(
        ...await this.db.sql<{ subject: string; payload: Record<string, unknown> }[]>`
          UPDATE ${this.db.sql(table)} SET published_at = now()
          WHERE published_at IS NULL
          RETURNING subject, payload`,
      );
    }
    return rows;
  }

  private async requeue(events: Array<{ subject: string; payload: Record<string, unknown> }>) {
    for (const event of events) {
      await this.db.sql`
        INSERT INTO proposal_outbox (id, subject, payload)
        VALUES (${crypto.randomUUID()}, ${event.subject}, ${JSON.stringify(event.payload)}::jsonb)`;
    }
  }

  /** Notifications delivered to `userId` of a kind (the subject's last token). */
  notified(userId: string, kind: string): Delivered[] {
    return this.notifications.filter((n) => n.subject === `notify.${userId}.${kind}`);
  }

  async close(): Promise<void> {
    await this.sweeper.stop();
    await this.db.close(1);
  }
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}
