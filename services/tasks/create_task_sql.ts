/**
 * CreateTask's one statement: the tasks of a batch, their first history rows and their
 * `task.created` outbox rows, inserted by a single CTE (one round trip, one commit), whatever the
 * batch's size (group commit, lib/db/group_commit.ts). Task and event ids are made by the caller,
 * so the event's payload is built before the statement runs. `bench:write` runs this very text
 * with pgbench as the anchor "CreateTask's own SQL" ({@link createTasksPgbenchScript}).
 *
 * @module
 */

import type { NewTask } from "./task_store.ts";

/** The columns a created task is returned with (those of TaskRow). */
export const TASK_COLUMNS = `id, client_id, title, description, required_skills, budget_minor,
  currency, deadline, status, assigned_developer_id, created_at, updated_at, terms_version,
  requires_approval, submission_note, submission_link, submitted_at, submissions, change_request,
  disputed_by,
  dispute_reason, dispute_resolution, developer_share_bps, approval_mode`;

/**
 * The statement; parameters, one array element per task: $1 ids, $2 client ids, $3 titles,
 * $4 descriptions, $5 required skills (JSON text), $6 budgets (minor units), $7 currencies,
 * $8 deadlines (ISO text or NULL), $9 actor ids, $10 event ids, $11 event payloads (JSON text),
 * $12 traceparents (or NULL), $13 requires_approval ("true" or "false"). Returns the tasks in the order given.
 */
export const CREATE_TASKS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int8[],
                       $7::text[], $8::timestamptz[], $9::text[], $10::uuid[], $11::text[],
                       $12::text[], $13::text[])
    WITH ORDINALITY AS i(id, client_id, title, description, skills, budget_minor, currency,
                         deadline, actor_id, event_id, payload, traceparent, requires_approval, n)
), task AS (
  INSERT INTO tasks (id, client_id, title, description, required_skills, budget_minor, currency,
                     deadline, created_at, updated_at, requires_approval)
  SELECT id, client_id, title, description, skills::jsonb, budget_minor, currency, deadline,
         date_trunc('milliseconds', now()), now(), requires_approval::bool
  FROM input ORDER BY n
  RETURNING ${TASK_COLUMNS}
), history AS (
  INSERT INTO task_transitions (task_id, from_status, to_status, actor_id, reason)
  SELECT task.id, NULL, 'OPEN', input.actor_id, 'created'
  FROM task JOIN input USING (id) ORDER BY input.n
), outbox AS (
  INSERT INTO task_outbox (id, subject, payload, traceparent)
  SELECT input.event_id, 'task.created', input.payload::jsonb, input.traceparent
  FROM task JOIN input USING (id) ORDER BY input.n
)
SELECT task.* FROM task JOIN input USING (id) ORDER BY input.n`;

/** The values of one task as {@link CREATE_TASKS_SQL} takes them. */
export interface CreateTaskValues extends NewTask {
  id: string;
  actorId: string;
  eventId: string;
  eventPayload: unknown;
  traceparent?: string;
}

/**
 * The parameters of {@link CREATE_TASKS_SQL} for a batch.
 *
 * @example
 * ```ts
 * const rows = await sql.unsafe(CREATE_TASKS_SQL, createTasksParams(batch), { prepare: true });
 * ```
 */
export function createTasksParams(tasks: readonly CreateTaskValues[]): unknown[][] {
  return [
    tasks.map((t) => t.id),
    tasks.map((t) => t.clientId),
    tasks.map((t) => t.title),
    tasks.map((t) => t.description),
    tasks.map((t) => JSON.stringify(t.requiredSkills)),
    tasks.map((t) => t.budgetMinor.toString()),
    tasks.map((t) => t.currency),
    tasks.map((t) => t.deadline?.toISOString() ?? null),
    tasks.map((t) => t.actorId),
    tasks.map((t) => t.eventId),
    tasks.map((t) => JSON.stringify(t.eventPayload)),
    tasks.map((t) => t.traceparent ?? null),
    tasks.map((t) => String(t.requiresApproval === true)),
  ];
}

function literal(value: string | null): string {
  return value === null ? "NULL" : `'${value.replaceAll("'", "''")}'`;
}

/**
 * {@link CREATE_TASKS_SQL} for pgbench with one task's values as literals (fresh task and event
 * ids each time: `gen_random_uuid()`), for the benchmark's "CreateTask's own SQL" anchor.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("create_task.sql", createTasksPgbenchScript(values));
 * ```
 */
export function createTasksPgbenchScript(task: CreateTaskValues): string {
  const [params] = [createTasksParams([task])];
  const arrays = params.map((values, i) =>
    i === 0 || i === 9
      ? "ARRAY[gen_random_uuid()]"
      : `ARRAY[${literal(values[0] === null ? null : String(values[0]))}]`
  );
  const sql = CREATE_TASKS_SQL.replace(/\$(\d+)/g, (_, n) => arrays[Number(n) - 1]);
  return sql.replace(/\s*\n\s*/g, " ").trim() + ";\n";
}
