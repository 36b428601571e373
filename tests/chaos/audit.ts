/**
 * What the chaos suite checks after each fault, from the platform's own records: the database
 * (tasks, proposals, outboxes) and the JetStream streams, read by a client of the suite's own.
 *
 * - every acknowledged CreateTask is a stored row with exactly one `task.created` in TASKS;
 * - every proposal has exactly one `proposal.created` in PROPOSALS, and no event id is stored twice;
 * - nothing is stranded: every acknowledged task reached the orchestrator and got proposals (or
 *   was assigned), every acknowledged accept assigned its task to that developer, the outboxes
 *   are empty and the durable consumers have nothing pending.
 *
 * @module
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import postgres from "postgres";
import type { AckedAccept, AckedTask } from "./load.ts";

/** The figures printed for one fault. */
export interface PhaseFigures {
  acknowledged: number;
  stored: number;
  /** Acknowledged tasks with exactly one / more than one `task.created` in the stream. */
  eventsUnique: number;
  eventsDuplicated: number;
  /** Acknowledged tasks with no `task.created` in the stream. */
  eventsMissing: number;
  /** Event ids stored more than once (any subject), found since the previous audit. */
  eventIdsDuplicated: number;
  proposals: number;
  /** Proposals with more than one `proposal.created`. */
  proposalsDuplicated: number;
  /** Proposals with no `proposal.created`. */
  proposalEventsMissing: number;
  /** Acknowledged tasks never matched, and acknowledged accepts whose task was not assigned. */
  strandedTasks: number;
  strandedAccepts: number;
  accepts: number;
}

/** The outboxes' highest sequence numbers at one moment. */
export interface OutboxSnapshot {
  taskOutboxSeq: number;
  proposalOutboxSeq: number;
}

/** The durable consumers the platform creates. */
const CONSUMERS: Array<[string, string]> = [
  ["TASKS", "orchestrator-task-created"],
  ["TASKS", "orchestrator-task-events"],
  ["PROPOSALS", "taskservice-proposal-accepted"],
];

/**
 * Reads the platform's records.
 *
 * @example
 * ```ts
 * const auditor = new Auditor(platform.databaseUrl, platform.nats.url);
 * const { snapshot } = await auditor.settle(tasks, accepts, 30_000);
 * const figures = await auditor.figures(tasks, accepts, snapshot);
 * ```
 */
export class Auditor {
  private readonly sql: postgres.Sql;
  private nc?: NatsConnection;
  private readonly lastSeq = new Map<string, number>();
  private readonly taskCreated = new Map<string, number>();
  private readonly proposalCreated = new Map<string, number>();
  private readonly eventIds = new Map<string, number>();
  private duplicatedIdsReported = 0;

  constructor(databaseUrl: string, private readonly natsUrl: string) {
    this.sql = postgres(databaseUrl, { max: 2, onnotice: () => {}, connect_timeout: 2 });
  }

  private async nats(): Promise<NatsConnection> {
    this.nc ??= await connect({
      servers: this.natsUrl.split(",").map((u) => u.replace(/^nats:\/\//, "")),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    return this.nc;
  }

  /**
   * Waits until every task in `tasks` has been matched (proposals made, or assigned) and every
   * accept in `accepts` has assigned its task, then takes a snapshot of both outboxes and waits
   * until the relays have published every row up to it. The load goes on meanwhile; only these
   * records are waited for. Resolves with the snapshot, or with what was still outstanding when
   * `timeoutMs` ran out.
   */
  async settle(
    tasks: AckedTask[],
    accepts: AckedAccept[],
    timeoutMs: number,
  ): Promise<{ outstanding: string[]; snapshot?: OutboxSnapshot }> {
    const deadline = Date.now() + timeoutMs;
    let outstanding: string[] = ["not checked"];
    let snapshot: OutboxSnapshot | undefined;
    while (Date.now() < deadline) {
      try {
        if (!snapshot) {
          outstanding = await this.unsettledWork(tasks, accepts);
          if (outstanding.length === 0) snapshot = await this.snapshot();
        }
        if (snapshot) {
          outstanding = await this.unpublishedUpTo(snapshot);
          if (outstanding.length === 0) return { outstanding, snapshot };
        }
      } catch (error) {
        outstanding = [`audit could not read: ${(error as Error).message}`];
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return { outstanding, snapshot };
  }

  private async unsettledWork(tasks: AckedTask[], accepts: AckedAccept[]): Promise<string[]> {
    const found: string[] = [];
    const ids = tasks.map((t) => t.taskId);
    const [{ n }] = await this.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM unnest(${ids}::uuid[]) AS t(id)
      WHERE NOT EXISTS (
        SELECT 1 FROM match_tasks m WHERE m.task_id = t.id AND m.state IN ('PROPOSED', 'ASSIGNED')
      )`;
    if (n > 0) found.push(`${n} tasks not matched yet`);
    if (accepts.length > 0) {
      const [{ n: open }] = await this.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM tasks
        WHERE id = ANY(${accepts.map((a) => a.taskId)}::uuid[]) AND status <> 'ASSIGNED'`;
      if (open > 0) found.push(`${open} accepted tasks not assigned yet`);
    }
    return found;
  }

  private async snapshot(): Promise<OutboxSnapshot> {
    const [row] = await this.sql<{ task: string; proposal: string }[]>`
      SELECT (SELECT coalesce(max(seq), 0) FROM task_outbox)::text AS task,
             (SELECT coalesce(max(seq), 0) FROM proposal_outbox)::text AS proposal`;
    return { taskOutboxSeq: Number(row.task), proposalOutboxSeq: Number(row.proposal) };
  }

  private async unpublishedUpTo(snapshot: OutboxSnapshot): Promise<string[]> {
    const found: string[] = [];
    for (
      const [table, seq] of [
        ["task_outbox", snapshot.taskOutboxSeq],
        ["proposal_outbox", snapshot.proposalOutboxSeq],
      ] as const
    ) {
      const [row] = await this.sql<
        { n: number; age: number | null; attempts: number | null; error: string | null }[]
      >`
        SELECT count(*)::int AS n,
               extract(epoch FROM now() - min(created_at))::float8 AS age,
               max(attempts)::int AS attempts, max(last_error) AS error
        FROM ${this.sql(table)} WHERE published_at IS NULL AND seq <= ${seq}`;
      if (row.n > 0) {
        found.push(
          `${table}: ${row.n} events unpublished (oldest ${row.age?.toFixed(1)} s, ` +
            `${row.attempts} attempts${row.error ? `, last error: ${row.error}` : ""})`,
        );
      }
    }
    return found;
  }

  /**
   * After the load stopped: waits until both outboxes are empty, the durable consumers have
   * nothing pending and every acknowledged task is matched; resolves with what is left.
   */
  async drain(tasks: AckedTask[], accepts: AckedAccept[], timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let left: string[] = ["not checked"];
    while (Date.now() < deadline) {
      try {
        left = [
          ...await this.unsettledWork(tasks, accepts),
          ...await this.unpublishedUpTo({
            taskOutboxSeq: Number.MAX_SAFE_INTEGER,
            proposalOutboxSeq: Number.MAX_SAFE_INTEGER,
          }),
          ...await this.consumerBacklog(),
        ];
        if (left.length === 0) return [];
      } catch (error) {
        left = [`audit could not read: ${(error as Error).message}`];
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return left;
  }

  /**
   * The durable consumers' backlog (pending and unacknowledged), for the closing check once the
   * load has stopped.
   */
  async consumerBacklog(): Promise<string[]> {
    const jsm = await jetstreamManager(await this.nats(), { timeout: 2000 });
    const found: string[] = [];
    for (const [stream, name] of CONSUMERS) {
      const info = await jsm.consumers.info(stream, name);
      if (info.num_pending > 0 || info.num_ack_pending > 0) {
        found.push(`${name}: ${info.num_pending} pending, ${info.num_ack_pending} unacknowledged`);
      }
    }
    return found;
  }

  /**
   * Reads the stream messages stored since the last call. A slow or briefly unreachable NATS (a
   * loaded machine, a node catching up after a fault) is retried for up to a minute; reading
   * resumes after the last message counted, so nothing is counted twice.
   */
  async readNewEvents(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        return await this.readNewEventsOnce();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async readNewEventsOnce(): Promise<void> {
    const nc = await this.nats();
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    const js = jetstream(nc, { timeout: 2000 });
    for (const stream of ["TASKS", "PROPOSALS"]) {
      const last = (await jsm.streams.info(stream)).state.last_seq;
      let next = (this.lastSeq.get(stream) ?? 0) + 1;
      if (next > last) continue;
      const consumer = await js.consumers.get(stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: next,
      });
      while (next <= last) {
        const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
        let got = 0;
        for await (const msg of batch) {
          got++;
          next = msg.seq + 1;
          this.count(msg.subject, msg.headers?.get("Nats-Msg-Id") ?? "", msg.json());
          this.lastSeq.set(stream, msg.seq);
          if (msg.seq >= last) break;
        }
        if (got === 0) throw new Error(`${stream}: no messages after seq ${next - 1} of ${last}`);
      }
      await consumer.delete().catch(() => {});
      this.lastSeq.set(stream, last);
    }
  }

  private count(subject: string, msgId: string, payload: Record<string, string>): void {
    const eventId = msgId || payload.event_id;
    if (eventId) this.eventIds.set(eventId, (this.eventIds.get(eventId) ?? 0) + 1);
    if (subject === "task.created" && payload.task_id) {
      this.taskCreated.set(payload.task_id, (this.taskCreated.get(payload.task_id) ?? 0) + 1);
    } else if (subject === "proposal.created" && payload.proposal_id) {
      this.proposalCreated.set(
        payload.proposal_id,
        (this.proposalCreated.get(payload.proposal_id) ?? 0) + 1,
      );
    }
  }

  /**
   * The figures for the tasks and accepts acknowledged during one fault. Proposals count when
   * their `proposal.created` outbox row is within `snapshot` (all of them without one); later
   * proposals of these tasks are checked by the audit of the whole run.
   */
  async figures(
    tasks: AckedTask[],
    accepts: AckedAccept[],
    snapshot?: OutboxSnapshot,
  ): Promise<PhaseFigures> {
    await this.readNewEvents();
    const ids = tasks.map((t) => t.taskId);
    const stored = ids.length === 0 ? [] : await this.sql<{ id: string }[]>`
      SELECT id FROM tasks WHERE id = ANY(${ids}::uuid[])`;
    const created = ids.map((id) => this.taskCreated.get(id) ?? 0);
    const upTo = snapshot?.proposalOutboxSeq ?? Number.MAX_SAFE_INTEGER;
    const proposals = ids.length === 0 ? [] : await this.sql<{ id: string }[]>`
      SELECT p.id FROM proposals p
      WHERE p.task_id = ANY(${ids}::uuid[]) AND NOT EXISTS (
        SELECT 1 FROM proposal_outbox o
        WHERE o.subject = 'proposal.created' AND o.payload->>'proposal_id' = p.id::text
          AND o.seq > ${upTo}
      )`;
    const proposalEvents = proposals.map((p) => this.proposalCreated.get(p.id) ?? 0);
    const [{ n: unmatched }] = ids.length === 0 ? [{ n: 0 }] : await this.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM unnest(${ids}::uuid[]) AS t(id)
      WHERE NOT EXISTS (
        SELECT 1 FROM match_tasks m WHERE m.task_id = t.id AND m.state IN ('PROPOSED', 'ASSIGNED')
      )`;
    let strandedAccepts = 0;
    if (accepts.length > 0) {
      const rows = await this.sql<{ id: string; status: string; dev: string | null }[]>`
        SELECT id, status, assigned_developer_id::text AS dev FROM tasks
        WHERE id = ANY(${accepts.map((a) => a.taskId)}::uuid[])`;
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const accept of accepts) {
        const task = byId.get(accept.taskId);
        if (!task || task.status !== "ASSIGNED" || task.dev !== accept.developerId) {
          strandedAccepts++;
        }
      }
    }
    const duplicatedIds = [...this.eventIds.values()].filter((n) => n > 1).length;
    const newDuplicatedIds = duplicatedIds - this.duplicatedIdsReported;
    this.duplicatedIdsReported = duplicatedIds;
    return {
      acknowledged: ids.length,
      stored: stored.length,
      eventsUnique: created.filter((n) => n === 1).length,
      eventsDuplicated: created.filter((n) => n > 1).length,
      eventsMissing: created.filter((n) => n === 0).length,
      eventIdsDuplicated: newDuplicatedIds,
      proposals: proposals.length,
      proposalsDuplicated: proposalEvents.filter((n) => n > 1).length,
      proposalEventsMissing: proposalEvents.filter((n) => n === 0).length,
      strandedTasks: unmatched,
      strandedAccepts,
      accepts: accepts.length,
    };
  }

  /** Event ids stored more than once, over the whole run (read so far). */
  duplicatedEventIds(): number {
    return [...this.eventIds.values()].filter((n) => n > 1).length;
  }

  /** Closes the suite's own connections. */
  async close(): Promise<void> {
    await this.nc?.close().catch(() => {});
    await this.sql.end({ timeout: 1 }).catch(() => {});
  }
}
