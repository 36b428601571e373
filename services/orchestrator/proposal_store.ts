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
 * The one statement that waits for several task locks, {@link ProposalStore.wakeWaitingTasks},
 * takes them in task id order while holding no other lock, so it cannot deadlock either.
 *
 * Every statement that returns proposals returns them with the terms of the task they were made
 * on (`terms`, from match_task_terms), so that a proposal always says what it is for.
 *
 * @module
 */
import type { Database, Sql, TransactionSql } from "@platform/lib/db";
import type { DeveloperStats } from "./matching/scoring.ts";

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
 * The SQL store.
 *
 * @example
 * ```ts
 * const store = new ProposalStore(db);
 * const task = await store.getTask(taskId);
 * ```
 */
export class ProposalStore {
  /** A store over the orchestrator's database, which it keeps to itself. */
  constructor(private readonly db: Database) {}

  /** Runs `work` in one transaction: for the command layer (proposal_commands.ts) only. */
  transaction<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Runs `work` outside a transaction (reads of the command layer). */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.db.run(work);
  }

  /**
   * Records a task from task.created unless known; the first attempt is leased for
   * `leaseSeconds` (next_attempt_at) so the sweeper leaves it to the consumer meanwhile.
   */
  async recordTask(task: NewMatchTask, leaseSeconds: number): Promise<{
    created: boolean;
    task: MatchTaskRow;
  }> {
    return await this.db.run(async (sql) => {
      const termsVersion = task.termsVersion ?? 1;
      // The task and its first terms in one statement (the terms row has no foreign key).
      const inserted = await sql<MatchTaskRow[]>`
        WITH terms AS (
          INSERT INTO match_task_terms (task_id, terms_version, title, required_skills,
                                        budget_minor, currency, deadline)
          VALUES (${task.taskId}, ${termsVersion}, ${task.title},
                  ${JSON.stringify(task.requiredSkills)}::text::jsonb,
                  ${task.budgetMinor?.toString() ?? null}::int8, ${task.currency ?? null},
                  ${task.deadline ?? null})
          ON CONFLICT (task_id, terms_version) DO NOTHING)
        INSERT INTO match_tasks (task_id, client_id, title, required_skills, budget_minor, currency,
                                 state, next_attempt_at, task_created_at, deadline, terms_version)
        VALUES (${task.taskId}, ${task.clientId}, ${task.title},
                ${JSON.stringify(task.requiredSkills)}::text::jsonb, ${
        task.budgetMinor?.toString() ?? null
      }::int8,
                ${task.currency ?? null}, 'PENDING',
                now() + make_interval(secs => ${leaseSeconds}),
                ${task.taskCreatedAt ?? new Date()}, ${task.deadline ?? null}, ${termsVersion})
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
            currency = ${task.currency ?? null}, deadline = ${task.deadline ?? null},
            terms_version = ${termsVersion},
            task_created_at = ${task.taskCreatedAt ?? new Date()}, updated_at = now()
        WHERE task_id = ${task.taskId} AND client_id IS NULL
        RETURNING *`;
      if (filled) return { created: false, task: filled };
      const [existing] = await sql<MatchTaskRow[]>`
        SELECT * FROM match_tasks WHERE task_id = ${task.taskId}`;
      return { created: false, task: existing };
    });
  }

  /** Records one version of a task's terms (a redelivered version changes nothing). */
  async recordTerms(sql: Q, task: NewMatchTask, termsVersion: number): Promise<void> {
    await sql`
      INSERT INTO match_task_terms (task_id, terms_version, title, required_skills, budget_minor,
                                    currency, deadline)
      VALUES (${task.taskId}, ${termsVersion}, ${task.title},
              ${JSON.stringify(task.requiredSkills)}::text::jsonb,
              ${task.budgetMinor?.toString() ?? null}::int8, ${task.currency ?? null},
              ${task.deadline ?? null})
      ON CONFLICT (task_id, terms_version) DO NOTHING`;
  }

  /**
   * Gives the locked task newer terms (from task.updated) and records them; its state is the
   * caller's to set.
   */
  async setTerms(lock: LockedTask, task: NewMatchTask, termsVersion: number): Promise<void> {
    await lock.tx`
      UPDATE match_tasks
      SET title = ${task.title},
          required_skills = ${JSON.stringify(task.requiredSkills)}::text::jsonb,
          budget_minor = ${task.budgetMinor?.toString() ?? null}::int8,
          currency = ${task.currency ?? null}, deadline = ${task.deadline ?? null},
          terms_version = ${termsVersion},
          client_id = COALESCE(client_id, ${task.clientId}::uuid), updated_at = now()
      WHERE task_id = ${lock.taskId}`;
    await this.recordTerms(lock.tx, task, termsVersion);
  }

  /** One task, or undefined (no lock: see {@link LockedTask} for that). */
  async getTask(taskId: string, q?: Q): Promise<MatchTaskRow | undefined> {
    const run = async (sql: Q) =>
      (await sql<MatchTaskRow[]>`SELECT * FROM match_tasks WHERE task_id = ${taskId}`)[0];
    return q ? await run(q) : await this.db.run(run);
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

  /** Those of `developerIds` the orchestrator knows to be offline (presence events). */
  async offlineAmong(tx: Q, developerIds: string[]): Promise<Set<string>> {
    if (developerIds.length === 0) return new Set();
    const rows = await tx<{ developer_id: string }[]>`
      SELECT developer_id FROM developer_presence
      WHERE developer_id = ANY(${developerIds}::uuid[]) AND NOT online`;
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
   * Developers at the fairness cap now (`cap` or more proposals within the window), at most
   * `limit` of them, the busiest first: left out of ranked lookups, since the matcher would not
   * choose them. One range scan of the window's proposals (idx_proposals_created).
   */
  async developersAtCap(windowSeconds: number, cap: number, limit: number): Promise<string[]> {
    const rows = await this.db.run((sql) =>
      sql<{ developer_id: string }[]>`
        SELECT developer_id FROM proposals
        WHERE created_at > now() - make_interval(secs => ${windowSeconds})
        GROUP BY developer_id
        HAVING count(*) >= ${cap}
        ORDER BY count(*) DESC, developer_id
        LIMIT ${limit}`
    );
    return rows.map((r) => r.developer_id);
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
   * History (for scoring) and {@link offlineAmong} for the same developers in one statement (an
   * attempt's transaction asks for both at once). Only developers with a proposal have stats; open
   * work counts pending proposals and assigned tasks; `recent` counts proposals of the last
   * `windowSeconds`.
   */
  async developerFacts(
    tx: Q,
    developerIds: string[],
    windowSeconds: number,
  ): Promise<{ stats: Map<string, DeveloperStats>; offline: Set<string> }> {
    const stats = new Map<string, DeveloperStats>();
    const offline = new Set<string>();
    if (developerIds.length === 0) return { stats, offline };
    const rows = await tx<
      {
        developer_id: string;
        has_proposals: boolean;
        accepted: number;
        declined: number;
        expired: number;
        pending: number;
        recent: number;
        assigned: number;
        offline: boolean;
      }[]
    >`
      WITH p AS (
        SELECT developer_id,
               count(*) FILTER (WHERE status = 'ACCEPTED')::int AS accepted,
               count(*) FILTER (WHERE status = 'DECLINED')::int AS declined,
               count(*) FILTER (WHERE status = 'EXPIRED')::int AS expired,
               count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
               count(*) FILTER (WHERE created_at > now() - make_interval(secs => ${windowSeconds}))::int
                 AS recent
        FROM proposals
        WHERE developer_id = ANY(${developerIds}::uuid[])
        GROUP BY developer_id
      ), a AS (
        SELECT assigned_developer_id AS developer_id, count(*)::int AS n
        FROM match_tasks
        WHERE state = 'ASSIGNED' AND assigned_developer_id = ANY(${developerIds}::uuid[])
        GROUP BY assigned_developer_id
      ), o AS (
        SELECT developer_id FROM developer_presence
        WHERE developer_id = ANY(${developerIds}::uuid[]) AND NOT online
      )
      SELECT ids.developer_id, p.developer_id IS NOT NULL AS has_proposals,
             coalesce(p.accepted, 0) AS accepted, coalesce(p.declined, 0) AS declined,
             coalesce(p.expired, 0) AS expired, coalesce(p.pending, 0) AS pending,
             coalesce(p.recent, 0) AS recent, coalesce(a.n, 0) AS assigned,
             o.developer_id IS NOT NULL AS offline
      FROM unnest(${developerIds}::uuid[]) AS ids(developer_id)
      LEFT JOIN p USING (developer_id)
      LEFT JOIN a USING (developer_id)
      LEFT JOIN o USING (developer_id)`;
    for (const r of rows) {
      if (r.offline) offline.add(r.developer_id);
      // A developer with no proposal has no history.
      if (!r.has_proposals) continue;
      stats.set(r.developer_id, {
        accepted: r.accepted,
        declined: r.declined,
        expired: r.expired,
        open: r.pending + r.assigned,
        recent: r.recent,
      });
    }
    return { stats, offline };
  }

  /** History of the developers for scoring (the stats half of {@link developerFacts}). */
  async developerStats(
    tx: Q,
    developerIds: string[],
    windowSeconds: number,
  ): Promise<Map<string, DeveloperStats>> {
    return (await this.developerFacts(tx, developerIds, windowSeconds)).stats;
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
   * Ends an attempt: new state, one more attempt, the next attempt in `retryInSeconds` (null: none
   * scheduled; an event wakes the task).
   */
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
   * Up to `size` PROPOSED tasks after `after` in task_id order (idx_match_tasks_proposed): the
   * slice the sweeper's safety nets look at in one round, so a round costs the slice, not the
   * number of PROPOSED tasks; the sweeper walks on from the last one and starts over at the end.
   */
  async proposedTasksAfter(after: string | null, size: number): Promise<string[]> {
    const rows = await this.db.run((sql) =>
      sql<{ task_id: string }[]>`
        SELECT task_id FROM match_tasks
        WHERE state = 'PROPOSED' ${after === null ? sql`` : sql`AND task_id > ${after}::uuid`}
        ORDER BY task_id
        LIMIT ${size}`
    );
    return rows.map((r) => r.task_id);
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

  /**
   * Puts the locked task back to matching now (an acceptance voided, new terms): PENDING, no
   * assignee, due now, one more wake so an attempt in flight retries.
   */
  async reopenTask(lock: LockedTask): Promise<void> {
    await lock.tx`
      UPDATE match_tasks
      SET state = 'PENDING', assigned_developer_id = NULL, next_attempt_at = now(),
          wake_seq = wake_seq + 1, updated_at = now()
      WHERE task_id = ${lock.taskId}`;
  }

  /**
   * Records a presence event; false when an event at least as recent was recorded before (a late
   * one changes nothing).
   */
  async recordPresence(developerId: string, online: boolean, at: Date): Promise<boolean> {
    const rows = await this.db.run((sql) =>
      sql`
        INSERT INTO developer_presence (developer_id, online, changed_at)
        VALUES (${developerId}, ${online}, ${at})
        ON CONFLICT (developer_id) DO UPDATE SET online = excluded.online,
                                                 changed_at = excluded.changed_at
          WHERE developer_presence.changed_at < excluded.changed_at
        RETURNING developer_id`
    );
    return rows.length > 0;
  }

  /**
   * Wakes (due now, one more wake) at most `limit` waiting tasks (PENDING or NO_CANDIDATES, before
   * their deadline, oldest first) that a developer with `skills` can take: required skills
   * overlapping `wanted` (the developer's new skills, or all of them), at least `minCoverage` of
   * them offered, not the developer's own, and not already proposed to them on these terms. Locks
   * in task id order, holding nothing else. Returns the tasks woken.
   */
  async wakeWaitingTasks(options: {
    developerId: string;
    skills: string[];
    wanted: string[];
    minCoverage: number;
    limit: number;
  }): Promise<string[]> {
    const { developerId, skills, wanted, minCoverage, limit } = options;
    if (limit <= 0) return [];
    const rows = await this.db.transaction((tx) =>
      tx<{ task_id: string }[]>`
        WITH candidates AS (
          SELECT m.task_id FROM match_tasks m
          WHERE m.state IN ('PENDING', 'NO_CANDIDATES')
            AND (m.required_skills ?| ${wanted}::text[] OR m.required_skills = '[]'::jsonb)
            AND (m.deadline IS NULL OR m.deadline > now())
            AND m.client_id IS NOT NULL AND m.client_id <> ${developerId}::uuid
            AND (SELECT count(*) FROM jsonb_array_elements_text(m.required_skills) s(skill)
                 WHERE s.skill = ANY(${skills}::text[]))
                >= ceil(${minCoverage}::float8 * jsonb_array_length(m.required_skills))
            AND NOT EXISTS (SELECT 1 FROM proposals p
                            WHERE p.task_id = m.task_id AND p.developer_id = ${developerId}::uuid
                              AND p.terms_version = m.terms_version)
          ORDER BY m.task_created_at
          LIMIT ${limit}),
        locked AS (
          SELECT m.task_id FROM match_tasks m JOIN candidates USING (task_id)
          ORDER BY m.task_id
          FOR UPDATE OF m)
        UPDATE match_tasks m
        SET next_attempt_at = now(), wake_seq = m.wake_seq + 1, updated_at = now()
        FROM locked
        WHERE m.task_id = locked.task_id AND m.state IN ('PENDING', 'NO_CANDIDATES')
        RETURNING m.task_id`
    );
    return rows.map((r) => r.task_id);
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
