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

/** The durable consumers the platform creates. */
const CONSUMERS: Array<[string, string]> = [
  ["TASKS", "orchestrator-task-created"],
  ["TASKS", "orchestrator-task-events"],
  ["PROPOSALS", "taskservice-proposal-accepted"],
];

/** Reads the platform's records. */
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
   * Waits until the events of `tasks` are published (their task and proposal outbox rows), every
   * task in `tasks` has been matched (proposals made, or assigned) and every accept in `accepts`
   * has assigned its task; resolves with what is still outstanding when `timeoutMs` runs out
   * (empty when settled). The load goes on meanwhile; only these records are waited for.
   */
  async settle(tasks: AckedTask[], accepts: AckedAccept[], timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let outstanding: string[] = ["not checked"];
    while (Date.now() < deadline) {
      try {
        outstanding = await this.outstanding(tasks, accepts);
        if (outstanding.length === 0) return [];
      } catch (error) {
        outstanding = [`audit could not read: ${(error as Error).message}`];
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return outstanding;
  }

  private async outstanding(tasks: AckedTask[], accepts: AckedAccept[]): Promise<string[]> {
    const found: string[] = [];
    const ids = tasks.map((t) => t.taskId);
    for (const table of ["task_outbox", "proposal_outbox"]) {
      const [{ n }] = await this.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM ${this.sql(table)}
        WHERE published_at IS NULL AND payload->>'task_id' = ANY(${ids}::text[])`;
      if (n > 0) found.push(`${table}: ${n} events of these tasks unpublished`);
    }
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

  /** Reads the stream messages stored since the last call. */
  async readNewEvents(): Promise<void> {
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

  /** The figures for the tasks and accepts acknowledged during one fault. */
  async figures(tasks: AckedTask[], accepts: AckedAccept[]): Promise<PhaseFigures> {
    await this.readNewEvents();
    const ids = tasks.map((t) => t.taskId);
    const stored = ids.length === 0 ? [] : await this.sql<{ id: string }[]>`
      SELECT id FROM tasks WHERE id = ANY(${ids}::uuid[])`;
    const created = ids.map((id) => this.taskCreated.get(id) ?? 0);
    const proposals = ids.length === 0 ? [] : await this.sql<{ id: string }[]>`
      SELECT id FROM proposals WHERE task_id = ANY(${ids}::uuid[])`;
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

  /** Closes the suite's own connections. */
  async close(): Promise<void> {
    await this.nc?.close().catch(() => {});
    await this.sql.end({ timeout: 1 }).catch(() => {});
  }
}
