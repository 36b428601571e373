/**
 * The Task Service's SQL: tasks, their transitions and the consumed-events ledger (its outbox is
 * written by the shared OutboxWriter, see task_commands.ts).
 * Methods that change data take the transaction they run in, so that a change, its history row
 * and its events commit together.
 *
 * @module
 */
import type { Database, Sql, TransactionSql } from "@platform/lib/db";
import type { PageCursor } from "./domain/task_validation.ts";
import type { TaskState } from "./domain/task_state_machine.ts";
import {
  CREATE_TASKS_SQL,
  type CreateTaskSettings,
  createTasksParams,
  type CreateTaskValues,
  TASK_COLUMNS,
} from "./create_task_sql.ts";
import type { FieldChange } from "./domain/task_changes.ts";

/** A row of `tasks`. */
export interface TaskRow {
  id: string;
  client_id: string;
  title: string;
  description: string;
  required_skills: string[];
  budget_minor: bigint;
  currency: string;
  deadline: Date | null;
  status: TaskState;
  assigned_developer_id: string | null;
  created_at: Date;
  updated_at: Date;
  /** 1 at creation, one more at each change of terms (migration 004). */
  terms_version: number;
  /** Fixed at creation: delivered work waits for the client's approval (migration 005). */
  requires_approval: boolean;
  /** The last submission's note and link, when it was made, and how many there were. */
  submission_note: string;
  submission_link: string;
  submitted_at: Date | null;
  submissions: number;
  /** The client's last change request. */
  change_request: string;
  /** Who opened the dispute (a user id) and why; empty without one. */
  disputed_by: string;
  dispute_reason: string;
  dispute_resolution: DisputeResolutionName | null;
  /** A split's developer share in basis points. */
  developer_share_bps: number | null;
  /** How COMPLETED work was approved; null for a task completed without approval. */
  approval_mode: ApprovalModeName | null;
}

/** How delivered work was approved (`tasks.approval_mode`). */
export type ApprovalModeName = "MANUAL" | "AUTO" | "DISPUTE";
/** An admin's decision on a dispute (`tasks.dispute_resolution`). */
export type DisputeResolutionName = "APPROVE" | "REFUND" | "SPLIT";

/** What a delivery step writes on the task row besides its status (unset fields stay). */
export interface DeliveryPatch {
  /** A submission: its note and link; also sets submitted_at and counts it. */
  submission?: { note: string; link: string };
  /** A change request: what the client asked for. */
  changeRequest?: string;
  /** A dispute opened: by whom and why. */
  dispute?: { by: string; reason: string };
  /** A dispute resolved. */
  resolution?: { resolution: DisputeResolutionName; developerShareBps: number | null };
  /** Set when the work is approved. */
  approvalMode?: ApprovalModeName;
  /** A withdrawal: the task has no assignee any more. */
  clearAssignee?: boolean;
}

/** A row of `task_transitions`. */
export interface TransitionRow {
  id: string;
  from_status: TaskState | null;
  to_status: TaskState;
  actor_id: string;
  reason: string;
  at: Date;
  /** For an edit, what it changed (migration 006); empty for a change of status. */
  changes: FieldChange[];
  /** The task's terms version after this entry; null for rows older than migration 006. */
  terms_version: number | null;
}

/** The fields of a new task. */
export interface NewTask {
  clientId: string;
  title: string;
  description: string;
  requiredSkills: string[];
  budgetMinor: bigint;
  currency: string;
  deadline: Date | null;
  /** The client approves delivered work (fixed for the task's life); default false. */
  requiresApproval?: boolean;
}

/** Fields to change; undefined ones stay. `deadline: null` clears it. */
export interface TaskPatch {
  title?: string;
  description?: string;
  requiredSkills?: string[];
  budgetMinor?: bigint;
  currency?: string;
  deadline?: Date | null;
}

/** Filters of a listing. */
export interface TaskFilter {
  status?: TaskState;
  clientId?: string;
  /** Only tasks assigned to this developer. */
  assignedDeveloperId?: string;
  skill?: string;
  pageSize: number;
  after?: PageCursor;
}

type Tx = TransactionSql | Sql;

const COLUMNS = TASK_COLUMNS;
/** The same columns of the table aliased `t`. */
const COLUMNS_OF_T = COLUMNS.replace(/(\w+)/g, "t.$1");

/**
 * SQL access to the Task Service's tables.
 *
 * @example
 * ```ts
 * const store = new TaskStore(db);
 * const task = await store.get(id);
 * ```
 */
export class TaskStore {
  constructor(private readonly db: Database) {}

  /**
   * CreateTask's one statement for a batch of new tasks (task, history row, outbox row and
   * idempotency key each): a task's row, or `{ id: null }` where its key was already claimed.
   */
  insertNewTasks(
    batch: CreateTaskValues[],
    settings: CreateTaskSettings,
  ): Promise<Array<TaskRow | { id: null }>> {
    return this.db.run((sql) =>
      sql.unsafe<Array<TaskRow | { id: null }>>(
        CREATE_TASKS_SQL,
        createTasksParams(batch, settings) as never[],
        { prepare: true },
      )
    );
  }

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** The task, locked for the rest of the transaction; undefined when unknown. */
  async lock(tx: TransactionSql, id: string): Promise<TaskRow | undefined> {
    const [row] = await tx<TaskRow[]>`
      SELECT ${tx.unsafe(COLUMNS)} FROM tasks WHERE id = ${id} FOR UPDATE`;
    return row;
  }

  /**
   * The task a client's idempotency key created within the last `windowSeconds`, with the hash
   * of the request it came with; undefined when the key is unused (or older).
   */
  async idempotencyKey(
    clientId: string,
    key: string,
    windowSeconds: number,
  ): Promise<{ task_id: string; request_hash: string } | undefined> {
    const [row] = await this.db.run((sql) =>
      sql<{ task_id: string; request_hash: string }[]>`
        SELECT task_id, request_hash FROM task_idempotency_keys
        WHERE client_id = ${clientId} AND key = ${key}
          AND created_at >= now() - make_interval(secs => ${windowSeconds}::float8)`
    );
    return row;
  }

  /** Deletes at most `limit` idempotency keys older than the window; returns how many. */
  async deleteExpiredIdempotencyKeys(windowSeconds: number, limit: number): Promise<number> {
    const rows = await this.db.run((sql) =>
      sql`
        DELETE FROM task_idempotency_keys WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM task_idempotency_keys
          WHERE created_at < now() - make_interval(secs => ${windowSeconds}::float8)
          LIMIT ${limit}))`
    );
    return rows.count;
  }

  /** The task, or undefined when unknown. */
  async get(id: string): Promise<TaskRow | undefined> {
    const [row] = await this.db.run((sql) =>
      sql<TaskRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM tasks WHERE id = ${id}`
    );
    return row;
  }

  /**
   * Applies a patch and returns the updated task; `termsChanged` adds one to its terms version.
   */
  async update(
    tx: TransactionSql,
    id: string,
    patch: TaskPatch,
    termsChanged = false,
  ): Promise<TaskRow> {
    const set: Record<string, unknown> = {};
    if (patch.title !== undefined) set.title = patch.title;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.requiredSkills !== undefined) set.required_skills = tx.json(patch.requiredSkills);
    if (patch.budgetMinor !== undefined) set.budget_minor = patch.budgetMinor.toString();
    if (patch.currency !== undefined) set.currency = patch.currency;
    if (patch.deadline !== undefined) set.deadline = patch.deadline;
    const columns = Object.keys(set);
    if (columns.length === 0) {
      const [row] = await tx<TaskRow[]>`SELECT ${tx.unsafe(COLUMNS)} FROM tasks WHERE id = ${id}`;
      return row;
    }
    const [row] = await tx<TaskRow[]>`
      UPDATE tasks SET ${
      tx(set as Record<string, never>, ...columns as never[])
    }, updated_at = now(),
        terms_version = terms_version + ${termsChanged ? 1 : 0}
      WHERE id = ${id}
      RETURNING ${tx.unsafe(COLUMNS)}`;
    return row;
  }

  /**
   * Marks EXPIRED at most `limit` OPEN tasks whose deadline has passed (on the database's clock),
   * skipping rows another transaction holds (they are taken on a later round); returns them as
   * they were before (status OPEN) and after.
   */
  async expireDue(
    tx: TransactionSql,
    limit: number,
  ): Promise<Array<{ before: TaskRow; after: TaskRow }>> {
    const rows = await tx<TaskRow[]>`
      WITH due AS (
        SELECT id FROM tasks
        WHERE status = 'OPEN' AND deadline IS NOT NULL AND deadline <= now()
        ORDER BY deadline
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      UPDATE tasks t SET status = 'EXPIRED', updated_at = now()
      FROM due WHERE t.id = due.id
      RETURNING ${tx.unsafe(COLUMNS_OF_T)}`;
    return rows.map((after) => ({ before: { ...after, status: "OPEN" }, after }));
  }

  /** Sets the status (and the assigned developer when given). */
  async setStatus(
    tx: TransactionSql,
    id: string,
    status: TaskState,
    assignedDeveloperId?: string,
  ): Promise<TaskRow> {
    const [row] = assignedDeveloperId === undefined
      ? await tx<TaskRow[]>`
        UPDATE tasks SET status = ${status}, updated_at = now() WHERE id = ${id}
        RETURNING ${tx.unsafe(COLUMNS)}`
      : await tx<TaskRow[]>`
        UPDATE tasks SET status = ${status}, assigned_developer_id = ${assignedDeveloperId},
                         updated_at = now()
        WHERE id = ${id}
        RETURNING ${tx.unsafe(COLUMNS)}`;
    return row;
  }

  /**
   * Sets the status of a delivery step and what it records on the task (see {@link DeliveryPatch}).
   */
  async setDelivery(
    tx: TransactionSql,
    id: string,
    status: TaskState,
    patch: DeliveryPatch,
  ): Promise<TaskRow> {
    const s = patch.submission;
    const d = patch.dispute;
    const r = patch.resolution;
    const [row] = await tx<TaskRow[]>`
      UPDATE tasks SET status = ${status}, updated_at = now(),
        submission_note = COALESCE(${s?.note ?? null}::text, submission_note),
        submission_link = COALESCE(${s?.link ?? null}::text, submission_link),
        submitted_at = CASE WHEN ${s !== undefined} THEN now() ELSE submitted_at END,
        submissions = submissions + ${s ? 1 : 0},
        change_request = COALESCE(${patch.changeRequest ?? null}::text, change_request),
        disputed_by = COALESCE(${d?.by ?? null}::text, disputed_by),
        dispute_reason = COALESCE(${d?.reason ?? null}::text, dispute_reason),
        dispute_resolution = COALESCE(${r?.resolution ?? null}::text, dispute_resolution),
        developer_share_bps = COALESCE(${r?.developerShareBps ?? null}::int, developer_share_bps),
        approval_mode = COALESCE(${patch.approvalMode ?? null}::text, approval_mode),
        assigned_developer_id = CASE WHEN ${patch.clearAssignee === true} THEN NULL
                                     ELSE assigned_developer_id END
      WHERE id = ${id}
      RETURNING ${tx.unsafe(COLUMNS)}`;
    return row;
  }

  /**
   * Approves at most `limit` SUBMITTED tasks whose last submission is older than `afterSeconds`
   * (on the database's clock): COMPLETED, approval mode AUTO. Rows another transaction holds (a
   * manual approval, a dispute, a change request at the same moment) are skipped and, if still
   * due, taken on a later round; a row that changed meanwhile no longer matches. Returns them as
   * they are after.
   */
  async autoApproveDue(
    tx: TransactionSql,
    afterSeconds: number,
    limit: number,
  ): Promise<TaskRow[]> {
    const rows = await tx<TaskRow[]>`
      WITH due AS (
        SELECT id FROM tasks
        WHERE status = 'SUBMITTED'
          AND submitted_at <= now() - make_interval(secs => ${afterSeconds})
        ORDER BY submitted_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      UPDATE tasks t SET status = 'COMPLETED', approval_mode = 'AUTO', updated_at = now()
      FROM due WHERE t.id = due.id AND t.status = 'SUBMITTED'
      RETURNING ${tx.unsafe(COLUMNS_OF_T)}`;
    return [...rows];
  }

  /** Records a transition. */
  async addTransition(
    tx: Tx,
    taskId: string,
    from: TaskState | null,
    to: TaskState,
    actorId: string,
    reason: string,
  ): Promise<void> {
    await tx`
      INSERT INTO task_transitions (task_id, from_status, to_status, actor_id, reason, terms_version)
      SELECT ${taskId}, ${from}, ${to}, ${actorId}, ${reason}, terms_version
      FROM tasks WHERE id = ${taskId}`;
  }

  /** Records an edit of an OPEN task: what it changed and the terms version it left. */
  async addEdit(
    tx: Tx,
    task: Pick<TaskRow, "id" | "terms_version">,
    actorId: string,
    changes: FieldChange[],
  ): Promise<void> {
    await tx`
      INSERT INTO task_transitions
        (task_id, from_status, to_status, actor_id, reason, changes, terms_version)
      VALUES (${task.id}, 'OPEN', 'OPEN', ${actorId}, 'edited', ${tx.json(changes as never)},
        ${task.terms_version})`;
  }

  /** Records the same transition of several tasks (the expiry sweep's). */
  async addTransitions(
    tx: Tx,
    taskIds: string[],
    from: TaskState,
    to: TaskState,
    actorId: string,
    reason: string,
  ): Promise<void> {
    if (taskIds.length === 0) return;
    await tx`
      INSERT INTO task_transitions (task_id, from_status, to_status, actor_id, reason, terms_version)
      SELECT t.id, ${from}, ${to}, ${actorId}, ${reason}, tasks.terms_version
      FROM unnest(${taskIds}::uuid[]) AS t(id) JOIN tasks ON tasks.id = t.id`;
  }

  /** Records a consumed event; false when it was recorded before (a redelivery). */
  async markProcessed(tx: TransactionSql, eventId: string): Promise<boolean> {
    const rows = await tx`
      INSERT INTO task_processed_events (event_id) VALUES (${eventId})
      ON CONFLICT (event_id) DO NOTHING
      RETURNING event_id`;
    return rows.length === 1;
  }

  /** A page of tasks, newest first; returns up to pageSize + 1 rows (the extra one means more). */
  list(filter: TaskFilter): Promise<TaskRow[]> {
    if (filter.skill !== undefined) return this.listBySkill(filter, filter.skill);
    return this.db.run((sql) =>
      sql<TaskRow[]>`
        SELECT ${sql.unsafe(COLUMNS)} FROM tasks
        WHERE true
          ${filter.status ? sql`AND status = ${filter.status}` : sql``}
          ${filter.clientId ? sql`AND client_id = ${filter.clientId}` : sql``}
          ${
        filter.assignedDeveloperId
          ? sql`AND assigned_developer_id = ${filter.assignedDeveloperId}`
          : sql``
      }
          ${filter.skill ? sql`AND required_skills @> ${sql.json([filter.skill])}` : sql``}
          ${
        filter.after
          ? sql`AND (created_at, id) < (${filter.after.createdAt}, ${filter.after.id}::uuid)`
          : sql``
      }
        ORDER BY created_at DESC, id DESC
        LIMIT ${filter.pageSize + 1}`
    );
  }

  /**
   * {@link list} with a skill: through task_skills (kept by a trigger in the transaction that
   * writes the task, migrations/071_task_skills.sql), whose (skill, [status,] created_at DESC,
   * task_id DESC) indexes give the page in order, so it costs the page at any number of tasks.
   */
  private listBySkill(filter: TaskFilter, skill: string): Promise<TaskRow[]> {
    return this.db.run((sql) =>
      sql<TaskRow[]>`
        SELECT ${sql.unsafe(COLUMNS_OF_T)}
        FROM task_skills s JOIN tasks t ON t.id = s.task_id
        WHERE s.skill = ${skill}
          ${filter.status ? sql`AND s.status = ${filter.status}` : sql``}
          ${filter.clientId ? sql`AND t.client_id = ${filter.clientId}` : sql``}
          ${
        filter.assignedDeveloperId
          ? sql`AND t.assigned_developer_id = ${filter.assignedDeveloperId}`
          : sql``
      }
          ${
        filter.after
          ? sql`AND (s.created_at, s.task_id) < (${filter.after.createdAt}, ${filter.after.id}::uuid)`
          : sql``
      }
        ORDER BY s.created_at DESC, s.task_id DESC
        LIMIT ${filter.pageSize + 1}`
    );
  }

  /**
   * A page of a task's transitions, oldest first, after the transition `afterId`; returns up to
   * `limit` rows (ask for one more than the page to know whether there is a next one).
   */
  history(taskId: string, limit = 1000, afterId?: bigint): Promise<TransitionRow[]> {
    return this.db.run((sql) =>
      sql<TransitionRow[]>`
        SELECT t.id::text AS id, from_status, to_status, actor_id, reason, at, changes, terms_version
        FROM task_transitions t
        WHERE task_id = ${taskId}
          ${afterId === undefined ? sql`` : sql`AND t.id > ${afterId.toString()}::int8`}
        -- The number, not the text alias: as text "10" sorts before "9".
        ORDER BY t.id
        LIMIT ${limit}`
    );
  }

  /**
   * Records what an event says about a proposal's holder (rank: created 1, accepted 2, closed 3);
   * an event older than the one recorded for the proposal changes nothing.
   */
  async recordProposalHolder(holder: {
    proposalId: string;
    taskId: string;
    developerId: string;
    holding: boolean;
    rank: number;
  }): Promise<void> {
    await this.db.run((sql) =>
      sql`
        INSERT INTO task_proposal_holders (proposal_id, task_id, developer_id, holding, rank)
        VALUES (${holder.proposalId}, ${holder.taskId}, ${holder.developerId}, ${holder.holding},
                ${holder.rank})
        ON CONFLICT (proposal_id) DO UPDATE
          SET holding = excluded.holding, rank = excluded.rank, updated_at = now()
          WHERE task_proposal_holders.rank < excluded.rank`
    );
  }

  /** True when the developer holds a pending or accepted proposal for the task. */
  async holdsProposal(taskId: string, developerId: string): Promise<boolean> {
    const rows = await this.db.run((sql) =>
      sql`
        SELECT 1 FROM task_proposal_holders
        WHERE task_id = ${taskId} AND developer_id = ${developerId} AND holding
        LIMIT 1`
    );
    return rows.length > 0;
  }
}
