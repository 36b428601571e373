/**
 * The orchestrator's tasks in SQL: `match_tasks` (state, attempts, leases), their terms and the
 * tombstones of tasks closed before they were seen. Moved out of proposal_store.ts (issue 23), the
 * SQL unchanged; the lock order of proposal_store.ts holds here too.
 *
 * @module
 */
import type { Database, Sql, TransactionSql } from "@platform/lib/db";
import type { LockedTask, MatchTaskRow, MatchTaskState, NewMatchTask } from "./proposal_store.ts";

type Q = Sql | TransactionSql;

/**
 * The SQL of the orchestrator's tasks: `match_tasks`, their terms (`match_task_terms`) and tombstones.
 *
 * @example
 * ```ts ignore
 * const task = await store.tasks.getTask(taskId);
 * ```
 */
export class MatchTaskStore {
  /** A store over the orchestrator's database (the command layer opens the transactions). */
  constructor(private readonly db: Database) {}

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
}
