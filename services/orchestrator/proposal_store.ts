/**
 * The orchestrator's SQL: matched tasks and proposals (its outbox is written by the shared
 * OutboxWriter, see proposal_commands.ts). No logic beyond the statements; the commands decide,
 * and open every transaction.
 *
 * Lock order: a task's match_tasks row is locked BEFORE any of its proposals, and proposals are
 * locked or changed only by a transaction that holds their task's row (answers, withdrawals,
 * expiry, new proposals). The types keep it: every method that locks or changes one task's
 * proposals takes a {@link LockedTask}, which only {@link LockedTask.acquire} makes, by locking the
 * task row. A transaction that may wait for a lock holds at most one task; statements locking
 * several tasks ({@link ProposalStore.expireDueProposals}, {@link ProposalStore.reopenOrphaned},
 * {@link ProposalStore.claimDueTasks}) lock the tasks first with `FOR UPDATE SKIP LOCKED` and never
 * wait. Locking proposals first (as the expiry sweep once did) deadlocks against an answer (40P01).
 *
 * @module
 */
import type { Database, Sql, TransactionSql } from "@platform/lib/db";
import type { DeveloperStats } from "./matching/scoring.ts";

/** The orchestrator's states of a task. */
export type MatchTaskState = "PENDING" | "PROPOSED" | "NO_CANDIDATES" | "ASSIGNED" | "CLOSED";
/** The states of a proposal. */
export type ProposalState = "PENDING" | "ACCEPTED" | "DECLINED" | "WITHDRAWN" | "EXPIRED";

/** A row of match_tasks. */
export interface MatchTaskRow {
  task_id: string;
  /** Null only for a tombstone: a task closed or assigned before its task.created arrived. */
  client_id: string | null;
  title: string;
  required_skills: string[];
  budget_minor: bigint | null;
  currency: string | null;
  state: MatchTaskState;
  attempts: number;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  assigned_developer_id: string | null;
  task_created_at: Date;
  created_at: Date;
}

/** A row of proposals. */
export interface ProposalRow {
  id: string;
  task_id: string;
  developer_id: string;
  score: number;
  status: ProposalState;
  created_at: Date;
  expires_at: Date;
  responded_at: Date | null;
  /** expires_at <= now() on the database's clock (set by {@link ProposalStore.getProposal}). */
  past_due?: boolean;
}

/** A task as task.created describes it. */
export interface NewMatchTask {
  taskId: string;
  clientId: string;
  title: string;
  requiredSkills: string[];
  budgetMinor?: bigint;
  currency?: string;
  taskCreatedAt?: Date;
}

type Q = Sql | TransactionSql;

/**
 * A transaction holding the row lock of one task (`SELECT ... FROM match_tasks ... FOR UPDATE`).
 * The store's methods that lock or change that task's proposals take one, so that proposals are
 * only ever locked after their task.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   const lock = await LockedTask.acquire(tx, taskId);
 *   if (lock) await store.withdrawPending(lock);
 * });
 * ```
 */
export class LockedTask {
  private constructor(
    /** The transaction that holds the lock. */
    readonly tx: TransactionSql,
    /** The task as it was when locked. */
    readonly task: MatchTaskRow,
  ) {}

  /** The task's id. */
  get taskId(): string {
    return this.task.task_id;
  }

  /** Locks the task's row for the rest of `tx`; undefined when the task is unknown. */
  static async acquire(tx: TransactionSql, taskId: string): Promise<LockedTask | undefined> {
    const [row] = await tx<MatchTaskRow[]>`
      SELECT * FROM match_tasks WHERE task_id = ${taskId} FOR UPDATE`;
    return row ? new LockedTask(tx, row) : undefined;
  }
}

/**
 * The SQL store.
 *
 * @example
 * ```ts
 * const store = new ProposalStore(db);
 * const task = await store.getTask(taskId);
 * ```
 */
export class ProposalStore {
  constructor(readonly db: Database) {}

  /**
   * Records a task from task.created unless known; the first attempt is leased for
   * `leaseSeconds` (next_attempt_at) so the sweeper leaves it to the consumer meanwhile.
   */
  async recordTask(task: NewMatchTask, leaseSeconds: number): Promise<{
    created: boolean;
    task: MatchTaskRow;
  }> {
    return await this.db.run(async (sql) => {
      const inserted = await sql<MatchTaskRow[]>`
        INSERT INTO match_tasks (task_id, client_id, title, required_skills, budget_minor, currency,
                                 state, next_attempt_at, task_created_at)
        VALUES (${task.taskId}, ${task.clientId}, ${task.title},
                ${JSON.stringify(task.requiredSkills)}::text::jsonb, ${
        task.budgetMinor?.toString() ?? null
      }::int8,
                ${task.currency ?? null}, 'PENDING',
                now() + make_interval(secs => ${leaseSeconds}),
                ${task.taskCreatedAt ?? new Date()})
        ON CONFLICT (task_id) DO NOTHING
        RETURNING *`;
      if (inserted.length > 0) return { created: true, task: inserted[0] };
      // A tombstone (the task was closed or assigned before this event arrived) gets its owner
      // and details; its state stays as it is, so the task is not matched.
      const [filled] = await sql<MatchTaskRow[]>`
        UPDATE match_tasks
        SET client_id = ${task.clientId}, title = ${task.title},
            required_skills = ${JSON.stringify(task.requiredSkills)}::text::jsonb,
            budget_minor = ${task.budgetMinor?.toString() ?? null}::int8,
            currency = ${task.currency ?? null},
            task_created_at = ${task.taskCreatedAt ?? new Date()}, updated_at = now()
        WHERE task_id = ${task.taskId} AND client_id IS NULL
        RETURNING *`;
      if (filled) return { created: false, task: filled };
      const [existing] = await sql<MatchTaskRow[]>`
        SELECT * FROM match_tasks WHERE task_id = ${task.taskId}`;
      return { created: false, task: existing };
    });
  }

  /** One task, or undefined (no lock: see {@link LockedTask} for that). */
  async getTask(taskId: string, q?: Q): Promise<MatchTaskRow | undefined> {
    const run = async (sql: Q) =>
      (await sql<MatchTaskRow[]>`SELECT * FROM match_tasks WHERE task_id = ${taskId}`)[0];
    return q ? await run(q) : await this.db.run(run);
  }

  /** Developers who already had a proposal for the task. */
  async proposedDevelopers(tx: Q, taskId: string): Promise<Set<string>> {
    const rows = await tx<{ developer_id: string }[]>`
      SELECT developer_id FROM proposals WHERE task_id = ${taskId}`;
    return new Set(rows.map((r) => r.developer_id));
  }

  /** PENDING proposals of a task. */
  async pendingCount(tx: Q, taskId: string): Promise<number> {
    const [row] = await tx<{ n: number }[]>`
      SELECT count(*)::int AS n FROM proposals WHERE task_id = ${taskId} AND status = 'PENDING'`;
    return row.n;
  }

  /** History of the developers for scoring. */
  async developerStats(
    tx: Q,
    developerIds: string[],
    windowSeconds: number,
  ): Promise<Map<string, DeveloperStats>> {
    const stats = new Map<string, DeveloperStats>();
    if (developerIds.length === 0) return stats;
    const rows = await tx<
      {
        developer_id: string;
        accepted: number;
        declined: number;
        expired: number;
        pending: number;
        recent: number;
      }[]
    >`
      SELECT developer_id,
             count(*) FILTER (WHERE status = 'ACCEPTED')::int AS accepted,
             count(*) FILTER (WHERE status = 'DECLINED')::int AS declined,
             count(*) FILTER (WHERE status = 'EXPIRED')::int AS expired,
             count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
             count(*) FILTER (WHERE created_at > now() - make_interval(secs => ${windowSeconds}))::int
               AS recent
      FROM proposals
      WHERE developer_id = ANY(${developerIds}::uuid[])
      GROUP BY developer_id`;
    const assigned = await tx<{ developer_id: string; n: number }[]>`
      SELECT assigned_developer_id AS developer_id, count(*)::int AS n
      FROM match_tasks
      WHERE state = 'ASSIGNED' AND assigned_developer_id = ANY(${developerIds}::uuid[])
      GROUP BY assigned_developer_id`;
    const assignedBy = new Map(assigned.map((r) => [r.developer_id, r.n]));
    for (const r of rows) {
      stats.set(r.developer_id, {
        accepted: r.accepted,
        declined: r.declined,
        expired: r.expired,
        open: r.pending + (assignedBy.get(r.developer_id) ?? 0),
        recent: r.recent,
      });
    }
    return stats;
  }

  /** Inserts proposals (one per task and developer; duplicates skipped); returns those inserted. */
  async insertProposals(
    lock: LockedTask,
    items: Array<{ developerId: string; score: number }>,
    ttlSeconds: number,
  ): Promise<ProposalRow[]> {
    if (items.length === 0) return [];
    return await lock.tx<ProposalRow[]>`
      INSERT INTO proposals (task_id, developer_id, score, expires_at)
      SELECT ${lock.taskId}::uuid, d.developer_id, d.score,
             now() + make_interval(secs => ${ttlSeconds})
      FROM unnest(${items.map((i) => i.developerId)}::uuid[],
                  ${items.map((i) => i.score)}::float8[]) AS d(developer_id, score)
      ON CONFLICT (task_id, developer_id) DO NOTHING
      RETURNING *`;
  }

  /** Ends an attempt: new state, one more attempt, the retry time (or none). */
  async finishAttempt(
    lock: LockedTask,
    state: MatchTaskState,
    retryInSeconds: number | null,
  ): Promise<void> {
    const taskId = lock.taskId;
    await lock.tx`
      UPDATE match_tasks
      SET state = ${state}, attempts = attempts + 1, last_attempt_at = now(),
          next_attempt_at = CASE WHEN ${retryInSeconds}::float8 IS NULL THEN NULL
                                 ELSE now() + make_interval(secs => ${retryInSeconds}::float8) END,
          updated_at = now()
      WHERE task_id = ${taskId}`;
  }

  /** Postpones a task's next attempt (the User Service was unavailable). */
  async deferTask(taskId: string, seconds: number): Promise<void> {
    await this.db.run((sql) =>
      sql`
        UPDATE match_tasks SET next_attempt_at = now() + make_interval(secs => ${seconds}),
                               updated_at = now()
        WHERE task_id = ${taskId} AND state IN ('PENDING', 'NO_CANDIDATES')`
    );
  }

  /**
   * Claims tasks due for a (re)try, leasing them for `leaseSeconds` so other replicas skip them.
   */
  async claimDueTasks(limit: number, leaseSeconds: number): Promise<string[]> {
    const rows = await this.db.run((sql) =>
      sql<{ task_id: string }[]>`
        UPDATE match_tasks m
        SET next_attempt_at = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
        WHERE m.task_id IN (
          SELECT task_id FROM match_tasks
          WHERE state IN ('PENDING', 'NO_CANDIDATES') AND next_attempt_at <= now()
          ORDER BY next_attempt_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING m.task_id`
    );
    return rows.map((r) => r.task_id);
  }

  /**
   * Expires PENDING proposals past their time and puts the tasks left with no PENDING proposal
   * back to matching, in the caller's transaction (so no crash can come between). Following the
   * lock order (see the top of this file), the tasks with due proposals are locked first, at most
   * `limit`, skipping those another transaction holds (an answer, a matching attempt, a
   * withdrawal: they are expired on a later round, or by the answer itself); their proposals are
   * then expired and the tasks reopened by later statements, whose snapshots see every change
   * committed to those tasks before the lock was taken.
   */
  async expireDueProposals(
    tx: TransactionSql,
    limit: number,
  ): Promise<{ tasks: number; reopened: number }> {
    const locked = await tx<{ task_id: string }[]>`
      SELECT m.task_id FROM match_tasks m
      WHERE m.task_id IN (SELECT p.task_id FROM proposals p
                          WHERE p.status = 'PENDING' AND p.expires_at <= now())
      LIMIT ${limit}
      FOR UPDATE OF m SKIP LOCKED`;
    if (locked.length === 0) return { tasks: 0, reopened: 0 };
    const expired = await tx<{ task_id: string }[]>`
      UPDATE proposals SET status = 'EXPIRED'
      WHERE task_id = ANY(${locked.map((r) => r.task_id)}::uuid[])
        AND status = 'PENDING' AND expires_at <= now()
      RETURNING task_id`;
    const taskIds = [...new Set(expired.map((r) => r.task_id))];
    return { tasks: taskIds.length, reopened: await this.reopenTasks(tx, taskIds) };
  }

  /**
   * The safety net: PROPOSED tasks with no PENDING proposal (whatever left them so) go back to
   * matching now. Returns how many.
   */
  async reopenOrphaned(limit: number): Promise<number> {
    return await this.db.run(async (sql) =>
      (await sql`
        UPDATE match_tasks m SET state = 'PENDING', next_attempt_at = now(), updated_at = now()
        WHERE m.task_id IN (
          SELECT t.task_id FROM match_tasks t
          WHERE t.state = 'PROPOSED'
            AND NOT EXISTS (SELECT 1 FROM proposals p
                            WHERE p.task_id = t.task_id AND p.status = 'PENDING')
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
          AND m.state = 'PROPOSED'`).count
    );
  }

  /**
   * Puts PROPOSED tasks that have no PENDING proposal left back to matching now; the caller holds
   * the tasks' locks (taken by {@link expireDueProposals}).
   */
  private async reopenTasks(tx: TransactionSql, taskIds: string[]): Promise<number> {
    if (taskIds.length === 0) return 0;
    return (await tx`
      UPDATE match_tasks m SET state = 'PENDING', next_attempt_at = now(), updated_at = now()
      WHERE m.task_id = ANY(${taskIds}::uuid[]) AND m.state = 'PROPOSED'
        AND NOT EXISTS (SELECT 1 FROM proposals p
                        WHERE p.task_id = m.task_id AND p.status = 'PENDING')`).count;
  }

  /** Puts the locked task back to matching now when it is PROPOSED with no PENDING proposal. */
  async reopenIfIdle(lock: LockedTask): Promise<boolean> {
    return (await this.reopenTasks(lock.tx, [lock.taskId])) > 0;
  }

  /** One proposal with `past_due` from the database's clock (no lock). */
  async getProposal(id: string): Promise<ProposalRow | undefined> {
    const [row] = await this.db.run((sql) =>
      sql<ProposalRow[]>`
        SELECT *, expires_at <= now() AS past_due FROM proposals WHERE id = ${id}`
    );
    return row;
  }

  /**
   * One proposal of the locked task, locked, with `past_due` from the database's clock; undefined
   * when unknown or another task's.
   */
  async lockProposal(lock: LockedTask, id: string): Promise<ProposalRow | undefined> {
    const [row] = await lock.tx<ProposalRow[]>`
      SELECT *, expires_at <= now() AS past_due FROM proposals
      WHERE id = ${id} AND task_id = ${lock.taskId}
      FOR UPDATE`;
    return row;
  }

  /** Sets the answer of a proposal of the locked task. */
  async setProposalStatus(
    lock: LockedTask,
    id: string,
    status: ProposalState,
  ): Promise<ProposalRow> {
    const [row] = await lock.tx<ProposalRow[]>`
      UPDATE proposals SET status = ${status}, responded_at = now()
      WHERE id = ${id} AND task_id = ${lock.taskId} RETURNING *`;
    return row;
  }

  /** Withdraws the PENDING proposals of the locked task (except one); returns how many. */
  async withdrawPending(lock: LockedTask, exceptId?: string): Promise<number> {
    const result = await lock.tx`
      UPDATE proposals SET status = 'WITHDRAWN', responded_at = now()
      WHERE task_id = ${lock.taskId} AND status = 'PENDING'
        AND id <> ${exceptId ?? "00000000-0000-0000-0000-000000000000"}::uuid`;
    return result.count;
  }

  /**
   * Records a task the orchestrator has not seen yet in its final state (closed, or assigned to
   * `developerId`), with no owner: a later task.created then matches nothing. Undefined when the
   * task was recorded meanwhile (the caller handles it as known).
   */
  async insertTombstone(
    tx: TransactionSql,
    taskId: string,
    state: "ASSIGNED" | "CLOSED",
    developerId?: string,
  ): Promise<MatchTaskRow | undefined> {
    const [row] = await tx<MatchTaskRow[]>`
      INSERT INTO match_tasks (task_id, client_id, state, assigned_developer_id, next_attempt_at)
      VALUES (${taskId}, NULL, ${state}, ${developerId ?? null}::uuid, NULL)
      ON CONFLICT (task_id) DO NOTHING
      RETURNING *`;
    return row;
  }

  /** Withdraws the locked task's ACCEPTED proposals except the given developer's; returns them. */
  async withdrawAccepted(lock: LockedTask, keepDeveloperId: string): Promise<ProposalRow[]> {
    return await lock.tx<ProposalRow[]>`
      UPDATE proposals SET status = 'WITHDRAWN'
      WHERE task_id = ${lock.taskId} AND status = 'ACCEPTED'
        AND developer_id <> ${keepDeveloperId}::uuid
      RETURNING *`;
  }

  /** Sets the locked task's state (and its assignee). */
  async setTaskState(
    lock: LockedTask,
    state: MatchTaskState,
    assignedDeveloperId?: string,
  ): Promise<void> {
    const taskId = lock.taskId;
    await lock.tx`
      UPDATE match_tasks
      SET state = ${state}, next_attempt_at = NULL,
          assigned_developer_id = COALESCE(${
      assignedDeveloperId ?? null
    }::uuid, assigned_developer_id),
          updated_at = now()
      WHERE task_id = ${taskId}`;
  }

  /** Proposals by filter, newest first, keyset-paged. */
  async listProposals(filter: {
    developerId?: string;
    taskId?: string;
    status?: ProposalState;
    limit: number;
    after?: { micros: bigint; id: string };
  }): Promise<Array<ProposalRow & { pos: bigint }>> {
    return await this.db.run(async (sql) =>
      await sql<Array<ProposalRow & { pos: bigint }>>`
        SELECT *, (extract(epoch FROM created_at) * 1000000)::int8 AS pos
        FROM proposals
        WHERE (${filter.developerId ?? null}::uuid IS NULL OR developer_id = ${
        filter.developerId ?? null
      }::uuid)
          AND (${filter.taskId ?? null}::uuid IS NULL OR task_id = ${filter.taskId ?? null}::uuid)
          AND (${filter.status ?? null}::text IS NULL OR status = ${filter.status ?? null}::text)
          AND (${filter.after?.micros.toString() ?? null}::int8 IS NULL
               OR ((extract(epoch FROM created_at) * 1000000)::int8, id)
                  < (${filter.after?.micros.toString() ?? null}::int8, ${
        filter.after?.id ?? null
      }::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT ${filter.limit}`
    );
  }
}
