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
 * {@link MatchTaskStore.claimDueTasks}) lock the tasks first with `FOR UPDATE SKIP LOCKED` and never
 * wait. Locking proposals first (as the expiry sweep once did) deadlocks against an answer (40P01).
 * The one statement that waits for several task locks, {@link MatchTaskStore.wakeWaitingTasks},
 * takes them in task id order while holding no other lock, so it cannot deadlock either.
 *
 * Every statement that returns proposals returns them with the terms of the task they were made
 * on (`terms`, from match_task_terms), so that a proposal always says what it is for.
 *
 * @module
 */
import type { Database, Sql, TransactionSql } from "@platform/lib/db";
import { DeveloperStore } from "./developer_store.ts";
import { MatchTaskStore } from "./match_task_store.ts";

/** The orchestrator's states of a task. */
export type MatchTaskState = "PENDING" | "PROPOSED" | "NO_CANDIDATES" | "ASSIGNED" | "CLOSED";
/** The states of a proposal. */
export type ProposalState =
  | "PENDING"
  | "ACCEPTED"
  | "DECLINED"
  | "WITHDRAWN"
  | "EXPIRED"
  | "CANCELLED";

/** Why a proposal was withdrawn, expired or cancelled (proto ProposalReason without prefix). */
export type ProposalReasonName =
  | "ANOTHER_DEVELOPER_ACCEPTED"
  | "TASK_CANCELLED"
  | "TASK_EXPIRED"
  | "TASK_CLOSED"
  | "TERMS_CHANGED"
  | "DEVELOPER_OFFLINE"
  | "TIMED_OUT"
  | "DEVELOPER_WITHDREW";

/** The terms of one version of a task (a row of match_task_terms, as JSON). */
export interface TaskTermsRow {
  title: string;
  required_skills: string[];
  budget_minor: number | string | null;
  currency: string | null;
  /** ISO time, or null. */
  deadline: string | null;
  terms_version: number;
}

/** A match state change, for the client's notification. */
export interface StateChange {
  task_id: string;
  client_id: string | null;
  from: MatchTaskState;
  to: MatchTaskState;
  /** PENDING proposals after the change. */
  pending: number;
}

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
  /** Null when the task has no deadline. */
  deadline: Date | null;
  /** The version of the terms above (1 from task.created; task.updated's after). */
  terms_version: number;
  /** Bumped when an event asks for a re-match (see migration 005). */
  wake_seq: string | number;
  /** deadline <= now() on the database's clock (set by {@link LockedTask.acquire}). */
  past_deadline?: boolean;
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
  /** The version of the task's terms it was made on. */
  terms_version: number;
  reason: ProposalReasonName | null;
  /** Those terms (null only for a proposal whose terms were never recorded). */
  terms: TaskTermsRow | null;
  /** expires_at <= now() on the database's clock (set by {@link ProposalStore.getProposal}). */
  past_due?: boolean;
}

/** A task as task.created (or task.updated) describes it. */
export interface NewMatchTask {
  taskId: string;
  clientId: string;
  title: string;
  requiredSkills: string[];
  budgetMinor?: bigint;
  currency?: string;
  taskCreatedAt?: Date;
  deadline?: Date;
  /** 1 unless the task is first heard of through a task.updated. */
  termsVersion?: number;
}

type Q = Sql | TransactionSql;

/** The columns of a proposal with its terms, for `SELECT`/`RETURNING` on alias `p`. */
export function proposalColumns(p: string): string {
  return `${p}.*, (SELECT row_to_json(t) FROM match_task_terms t
    WHERE t.task_id = ${p}.task_id AND t.terms_version = ${p}.terms_version) AS terms`;
}

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
      SELECT *, (deadline IS NOT NULL AND deadline <= now()) AS past_deadline
      FROM match_tasks WHERE task_id = ${taskId} FOR UPDATE`;
    return row ? new LockedTask(tx, row) : undefined;
  }
}

/**
 * The SQL of the proposals table (and the sweeps over it), with the stores of the other tables
 * beside it: {@link ProposalStore.tasks} (match_tasks, terms, tombstones) and
 * {@link ProposalStore.developers} (developer_presence, facts).
 *
 * @example
 * ```ts
 * const store = new ProposalStore(db);
 * const task = await store.getTask(taskId);
 * ```
 */
export class ProposalStore {
  /** The orchestrator's tasks (match_tasks, their terms, tombstones). */
  readonly tasks: MatchTaskStore;
  /** What the orchestrator knows of developers (presence, track record, load). */
  readonly developers: DeveloperStore;

  /** A store over the orchestrator's database, which it keeps to itself. */
  constructor(private readonly db: Database) {
    this.tasks = new MatchTaskStore(db);
    this.developers = new DeveloperStore(db);
  }

  /** Runs `work` in one transaction: for the command layer (proposal_commands.ts) only. */
  transaction<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Runs `work` outside a transaction (reads of the command layer). */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.db.run(work);
  }

  /**
   * Developers who already had a proposal for the task on these terms (all versions when
   * `termsVersion` is unset). After a change of terms, the same developers may be proposed again.
   */
  async proposedDevelopers(tx: Q, taskId: string, termsVersion?: number): Promise<Set<string>> {
    const rows = await tx<{ developer_id: string }[]>`
      SELECT developer_id FROM proposals
      WHERE task_id = ${taskId}
        AND (${termsVersion ?? null}::int IS NULL OR terms_version = ${termsVersion ?? null}::int)
      UNION
      SELECT developer_id FROM match_task_withdrawn_developers WHERE task_id = ${taskId}`;
    return new Set(rows.map((r) => r.developer_id));
  }

  /** True when the developer holds a PENDING or ACCEPTED proposal for the task. */
  async holdsProposal(taskId: string, developerId: string): Promise<boolean> {
    const rows = await this.db.run((sql) =>
      sql`
        SELECT 1 FROM proposals
        WHERE task_id = ${taskId} AND developer_id = ${developerId}
          AND status IN ('PENDING', 'ACCEPTED')
        LIMIT 1`
    );
    return rows.length > 0;
  }

  /** PENDING proposals of a task. */
  async pendingCount(tx: Q, taskId: string): Promise<number> {
    const [row] = await tx<{ n: number }[]>`
      SELECT count(*)::int AS n FROM proposals WHERE task_id = ${taskId} AND status = 'PENDING'`;
    return row.n;
  }

  /**
   * What an attempt needs to know of a task's proposals, in one query: the developers proposed
   * on the current terms or who withdrew from the task (not to be proposed again), whether any
   * proposal was ever made, and the PENDING count.
   */
  async proposalSummary(
    tx: Q,
    taskId: string,
    termsVersion: number,
  ): Promise<{ exclude: Set<string>; hadProposals: boolean; pending: number }> {
    const rows = await tx<
      { developer_id: string; terms_version: number | null; status: string }[]
    >`
      SELECT developer_id, terms_version, status FROM proposals WHERE task_id = ${taskId}
      UNION ALL
      SELECT developer_id, NULL, 'WITHDREW' FROM match_task_withdrawn_developers
      WHERE task_id = ${taskId}`;
    const exclude = new Set<string>();
    let pending = 0;
    let proposals = 0;
    for (const r of rows) {
      if (r.status === "WITHDREW") {
        exclude.add(r.developer_id);
        continue;
      }
      proposals++;
      if (Number(r.terms_version) === Number(termsVersion)) exclude.add(r.developer_id);
      if (r.status === "PENDING") pending++;
    }
    return { exclude, hadProposals: proposals > 0, pending };
  }

  /**
   * Inserts proposals on the locked task's current terms (one per task, developer and terms
   * version; duplicates skipped), expiring after `ttlSeconds` or at the task's deadline, whichever
   * comes first; returns those inserted.
   */
  async insertProposals(
    lock: LockedTask,
    items: Array<{ developerId: string; score: number }>,
    ttlSeconds: number,
  ): Promise<ProposalRow[]> {
    if (items.length === 0) return [];
    return await lock.tx<ProposalRow[]>`
      INSERT INTO proposals (task_id, developer_id, score, expires_at, terms_version)
      SELECT ${lock.taskId}::uuid, d.developer_id, d.score,
             LEAST(now() + make_interval(secs => ${ttlSeconds}),
                   COALESCE(${lock.task.deadline}::timestamptz, 'infinity')),
             ${lock.task.terms_version}
      FROM unnest(${items.map((i) => i.developerId)}::uuid[],
                  ${items.map((i) => i.score)}::float8[]) AS d(developer_id, score)
      ON CONFLICT (task_id, developer_id, terms_version) DO NOTHING
      RETURNING ${lock.tx.unsafe(proposalColumns("proposals"))}`;
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
  ): Promise<{ expired: ProposalRow[]; reopened: StateChange[] }> {
    // The due proposals in expiry order, so idx_proposals_pending_expiry drives the statement
    // and it costs what is due, not the size of match_tasks.
    const locked = await tx<{ task_id: string }[]>`
      SELECT m.task_id FROM match_tasks m
      WHERE m.task_id IN (SELECT p.task_id FROM proposals p
                          WHERE p.status = 'PENDING' AND p.expires_at <= now()
                          ORDER BY p.expires_at
                          LIMIT ${limit})
      FOR UPDATE OF m SKIP LOCKED`;
    if (locked.length === 0) return { expired: [], reopened: [] };
    // At the task's deadline the reason is the deadline; otherwise nobody answered in time.
    const expired = await tx<ProposalRow[]>`
      UPDATE proposals p SET status = 'EXPIRED',
        reason = CASE WHEN m.deadline IS NOT NULL AND p.expires_at >= m.deadline
                      THEN 'TASK_EXPIRED' ELSE 'TIMED_OUT' END
      FROM match_tasks m
      WHERE m.task_id = p.task_id AND p.task_id = ANY(${locked.map((r) => r.task_id)}::uuid[])
        AND p.status = 'PENDING' AND p.expires_at <= now()
      RETURNING ${tx.unsafe(proposalColumns("p"))}`;
    const taskIds = [...new Set(expired.map((r) => r.task_id))];
    return { expired, reopened: await this.reopenTasks(tx, taskIds) };
  }

  /**
   * Withdraws the PENDING proposals of developers known to be offline (one developer's, or
   * everyone's), locking their tasks first and skipping those another transaction holds (a later
   * round takes them); the tasks that lost a proposal go back to matching. Returns the withdrawn
   * proposals and the tasks' state changes.
   */
  async withdrawOfflineProposals(
    tx: TransactionSql,
    limit: number,
    scope: { developerId: string } | { amongTasks: string[] },
  ): Promise<{ withdrawn: ProposalRow[]; reopened: StateChange[] }> {
    const dev = "developerId" in scope ? scope.developerId : null;
    // One developer's pending proposals (idx_proposals_developer_pending), or those among a slice
    // of tasks (the sweeper's walk): never every pending proposal at once.
    const locked = await tx<{ task_id: string }[]>`
      SELECT m.task_id FROM match_tasks m
      WHERE m.task_id IN (
        SELECT p.task_id FROM proposals p
        JOIN developer_presence d ON d.developer_id = p.developer_id AND NOT d.online
        WHERE p.status = 'PENDING' AND ${
      "developerId" in scope
        ? tx`p.developer_id = ${scope.developerId}::uuid`
        : tx`p.task_id = ANY(${scope.amongTasks}::uuid[])`
    })
      ORDER BY m.task_id
      LIMIT ${limit}
      FOR UPDATE OF m SKIP LOCKED`;
    if (locked.length === 0) return { withdrawn: [], reopened: [] };
    const withdrawn = await tx<ProposalRow[]>`
      UPDATE proposals p SET status = 'WITHDRAWN', reason = 'DEVELOPER_OFFLINE',
                             responded_at = now()
      FROM developer_presence d
      WHERE d.developer_id = p.developer_id AND NOT d.online
        AND p.task_id = ANY(${locked.map((r) => r.task_id)}::uuid[]) AND p.status = 'PENDING'
        AND (${dev}::uuid IS NULL OR p.developer_id = ${dev}::uuid)
      RETURNING ${tx.unsafe(proposalColumns("p"))}`;
    const taskIds = [...new Set(withdrawn.map((r) => r.task_id))];
    return { withdrawn, reopened: await this.reopenTasks(tx, taskIds, true) };
  }

  /**
   * The safety net: those of `amongTasks` still PROPOSED with no PENDING proposal (whatever left
   * them so) go back to matching now. Returns their state changes.
   */
  async reopenOrphaned(
    tx: TransactionSql,
    limit: number,
    amongTasks: string[],
  ): Promise<StateChange[]> {
    const locked = await tx<{ task_id: string }[]>`
      SELECT t.task_id FROM match_tasks t
      WHERE t.task_id = ANY(${amongTasks}::uuid[]) AND t.state = 'PROPOSED'
        AND NOT EXISTS (SELECT 1 FROM proposals p
                        WHERE p.task_id = t.task_id AND p.status = 'PENDING')
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;
    return await this.reopenTasks(tx, locked.map((r) => r.task_id));
  }

  /**
   * Puts PROPOSED tasks back to matching now: those with no PENDING proposal left, or (`anyPending`)
   * every one of them, to replace proposals just taken back. A task past its deadline is not
   * matched again: it waits, NO_CANDIDATES, for its task.expired. The caller holds the tasks' locks.
   */
  private async reopenTasks(
    tx: TransactionSql,
    taskIds: string[],
    anyPending = false,
  ): Promise<StateChange[]> {
    if (taskIds.length === 0) return [];
    return await tx<StateChange[]>`
      UPDATE match_tasks m
      SET state = CASE WHEN m.deadline IS NOT NULL AND m.deadline <= now() THEN 'NO_CANDIDATES'
                       ELSE 'PENDING' END,
          next_attempt_at = CASE WHEN m.deadline IS NOT NULL AND m.deadline <= now() THEN NULL
                                 ELSE now() END,
          updated_at = now()
      WHERE m.task_id = ANY(${taskIds}::uuid[]) AND m.state = 'PROPOSED'
        AND (${anyPending} OR NOT EXISTS (SELECT 1 FROM proposals p
                                          WHERE p.task_id = m.task_id AND p.status = 'PENDING'))
      RETURNING m.task_id, m.client_id, 'PROPOSED' AS "from", m.state AS "to",
        (SELECT count(*)::int FROM proposals p
         WHERE p.task_id = m.task_id AND p.status = 'PENDING') AS pending`;
  }

  /**
   * Puts the locked task back to matching now when it is PROPOSED with no PENDING proposal (or,
   * with `anyPending`, whenever it is PROPOSED).
   */
  async reopenIfIdle(lock: LockedTask, anyPending = false): Promise<StateChange | undefined> {
    return (await this.reopenTasks(lock.tx, [lock.taskId], anyPending))[0];
  }

  /** One proposal with `past_due` from the database's clock (no lock). */
  async getProposal(id: string): Promise<ProposalRow | undefined> {
    const [row] = await this.db.run((sql) =>
      sql<ProposalRow[]>`
        SELECT ${sql.unsafe(proposalColumns("p"))}, p.expires_at <= now() AS past_due
        FROM proposals p WHERE p.id = ${id}`
    );
    return row;
  }

  /**
   * One proposal of the locked task, locked, with `past_due` from the database's clock; undefined
   * when unknown or another task's.
   */
  async lockProposal(lock: LockedTask, id: string): Promise<ProposalRow | undefined> {
    const [row] = await lock.tx<ProposalRow[]>`
      SELECT ${lock.tx.unsafe(proposalColumns("p"))}, p.expires_at <= now() AS past_due
      FROM proposals p
      WHERE p.id = ${id} AND p.task_id = ${lock.taskId}
      FOR UPDATE OF p`;
    return row;
  }

  /** Sets the status (the answer, or an expiry with its reason) of a proposal of the locked task. */
  async setProposalStatus(
    lock: LockedTask,
    id: string,
    status: ProposalState,
    reason: ProposalReasonName | null = null,
  ): Promise<ProposalRow> {
    const [row] = await lock.tx<ProposalRow[]>`
      UPDATE proposals SET status = ${status}, responded_at = now(), reason = ${reason}
      WHERE id = ${id} AND task_id = ${lock.taskId}
      RETURNING ${lock.tx.unsafe(proposalColumns("proposals"))}`;
    return row;
  }

  /**
   * Withdraws the PENDING proposals of the locked task (except one, or only one developer's);
   * returns them. `status` EXPIRED instead: the task's deadline ended them.
   */
  async withdrawPending(
    lock: LockedTask,
    reason: ProposalReasonName,
    options: { exceptId?: string; developerId?: string; status?: "WITHDRAWN" | "EXPIRED" } = {},
  ): Promise<ProposalRow[]> {
    return await lock.tx<ProposalRow[]>`
      UPDATE proposals SET status = ${options.status ?? "WITHDRAWN"}, responded_at = now(),
                           reason = ${reason}
      WHERE task_id = ${lock.taskId} AND status = 'PENDING'
        AND id <> ${options.exceptId ?? "00000000-0000-0000-0000-000000000000"}::uuid
        AND (${options.developerId ?? null}::uuid IS NULL
             OR developer_id = ${options.developerId ?? null}::uuid)
      RETURNING ${lock.tx.unsafe(proposalColumns("proposals"))}`;
  }

  /**
   * The locked task's ACCEPTED proposal becomes `status` (CANCELLED: the task was cancelled or
   * expired; WITHDRAWN: it was made on terms older than `olderThanTerms`); returns it, if any.
   */
  async closeAccepted(
    lock: LockedTask,
    status: "CANCELLED" | "WITHDRAWN",
    reason: ProposalReasonName,
    olderThanTerms?: number,
  ): Promise<ProposalRow[]> {
    return await lock.tx<ProposalRow[]>`
      UPDATE proposals SET status = ${status}, reason = ${reason}
      WHERE task_id = ${lock.taskId} AND status = 'ACCEPTED'
        AND (${olderThanTerms ?? null}::int IS NULL
             OR terms_version < ${olderThanTerms ?? null}::int)
      RETURNING ${lock.tx.unsafe(proposalColumns("proposals"))}`;
  }

  /** Withdraws the locked task's ACCEPTED proposals except the given developer's; returns them. */
  async withdrawAccepted(lock: LockedTask, keepDeveloperId: string): Promise<ProposalRow[]> {
    return await lock.tx<ProposalRow[]>`
      UPDATE proposals SET status = 'WITHDRAWN', reason = 'TASK_CLOSED'
      WHERE task_id = ${lock.taskId} AND status = 'ACCEPTED'
        AND developer_id <> ${keepDeveloperId}::uuid
      RETURNING ${lock.tx.unsafe(proposalColumns("proposals"))}`;
  }

  /**
   * Records that `developerId` stepped back from the task (never proposed it again), and takes
   * back their acceptance: WITHDRAWN, reason DEVELOPER_WITHDREW. Returns the proposals closed.
   */
  async recordWithdrawal(
    tx: TransactionSql,
    taskId: string,
    developerId: string,
  ): Promise<ProposalRow[]> {
    await tx`
      INSERT INTO match_task_withdrawn_developers (task_id, developer_id)
      VALUES (${taskId}, ${developerId}) ON CONFLICT DO NOTHING`;
    return await tx<ProposalRow[]>`
      UPDATE proposals SET status = 'WITHDRAWN', reason = 'DEVELOPER_WITHDREW'
      WHERE task_id = ${taskId} AND developer_id = ${developerId} AND status = 'ACCEPTED'
      RETURNING ${tx.unsafe(proposalColumns("proposals"))}`;
  }

  /**
   * Proposals by filter, newest first, keyset-paged. Only the filters given are in the statement
   * and the page comparison is on the columns themselves (the token's microseconds turned back
   * into the timestamp, exactly), so an index on (filter, created_at DESC, id DESC) serves it.
   */
  async listProposals(filter: {
    developerId?: string;
    taskId?: string;
    status?: ProposalState;
    limit: number;
    after?: { micros: bigint; id: string };
  }): Promise<Array<ProposalRow & { pos: bigint }>> {
    const { developerId, taskId, status, after } = filter;
    return await this.db.run(async (sql) =>
      await sql<Array<ProposalRow & { pos: bigint }>>`
        SELECT ${sql.unsafe(proposalColumns("proposals"))},
               (extract(epoch FROM created_at) * 1000000)::int8 AS pos
        FROM proposals
        WHERE true
          ${developerId === undefined ? sql`` : sql`AND developer_id = ${developerId}::uuid`}
          ${taskId === undefined ? sql`` : sql`AND task_id = ${taskId}::uuid`}
          ${status === undefined ? sql`` : sql`AND status = ${status}::text`}
          ${
        after === undefined ? sql`` : sql`AND (created_at, id) < (
              timestamptz 'epoch' + ${after.micros.toString()}::int8 * interval '1 microsecond',
              ${after.id}::uuid)`
      }
        ORDER BY created_at DESC, id DESC
        LIMIT ${filter.limit}`
    );
  }
}
