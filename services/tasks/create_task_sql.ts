/**
 * CreateTask's one statement: the tasks of a batch, their first history rows, their
 * `task.created` outbox rows (through the outbox writer's own INSERT, `OutboxWriter.insertFrom`)
 * and their idempotency keys, inserted by a single CTE (one round trip, one commit), whatever the
 * batch's size (group commit, lib/db/group_commit.ts). Task and event ids are made by the caller,
 * so the event's payload is built before the statement runs. `bench:write` runs this very text
 * with pgbench as the anchor "CreateTask's own SQL" (bench/write/pgbench_scripts.ts).
 *
 * @module
 */

import { TASK_OUTBOX_WRITER } from "./task_events.ts";
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
 * $12 traceparents (or NULL), $13 requires_approval ("true" or "false"), $14 idempotency keys
 * (or NULL), $15 request hashes, $16 event subjects; and $17 the idempotency window in seconds.
 * Returns one row per task, in the order given: the task as created, or all NULL when its key was
 * already used within the window (the caller then answers the key's first task, or refuses a
 * different request).
 *
 * A key is claimed by the first member of the batch that has it (a retry racing its original),
 * in a fixed order (client, key) so concurrent batches do not deadlock; a claim older than the
 * window is taken over. The task, its history row, its outbox row and its key commit together.
 */
export const CREATE_TASKS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int8[],
                       $7::text[], $8::timestamptz[], $9::text[], $10::uuid[], $11::text[],
                       $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
    WITH ORDINALITY AS i(id, client_id, title, description, skills, budget_minor, currency,
                         deadline, actor_id, event_id, payload, traceparent, requires_approval,
                         idem_key, request_hash, subject, n)
), first_use AS (
  SELECT DISTINCT ON (client_id, idem_key) client_id, idem_key, request_hash, id
  FROM input WHERE idem_key IS NOT NULL
  ORDER BY client_id, idem_key, n
), claimed AS (
  INSERT INTO task_idempotency_keys AS k (client_id, key, request_hash, task_id, created_at)
  SELECT client_id, idem_key, request_hash, id, now() FROM first_use ORDER BY client_id, idem_key
  ON CONFLICT (client_id, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, task_id = EXCLUDED.task_id,
        created_at = EXCLUDED.created_at
    WHERE k.created_at < now() - make_interval(secs => $17::float8)
  RETURNING k.task_id
), fresh AS (
  SELECT * FROM input
  WHERE idem_key IS NULL OR id IN (SELECT task_id FROM claimed)
), task AS (
  INSERT INTO tasks (id, client_id, title, description, required_skills, budget_minor, currency,
                     deadline, created_at, updated_at, requires_approval)
  SELECT id, client_id, title, description, skills::jsonb, budget_minor, currency, deadline,
         date_trunc('milliseconds', now()), now(), requires_approval::bool
  FROM fresh ORDER BY n
  RETURNING ${TASK_COLUMNS}
), history AS (
  INSERT INTO task_transitions (task_id, from_status, to_status, actor_id, reason)
  SELECT task.id, NULL, 'OPEN', fresh.actor_id, 'created'
  FROM task JOIN fresh USING (id) ORDER BY fresh.n
), event AS (
  SELECT fresh.event_id AS id, fresh.subject, fresh.payload, fresh.traceparent, fresh.n
  FROM task JOIN fresh USING (id)
), outbox AS (
  ${TASK_OUTBOX_WRITER.insertFrom("event")}
)
SELECT task.* FROM input LEFT JOIN task ON task.id = input.id ORDER BY input.n`;

/** The values of one task as {@link CREATE_TASKS_SQL} takes them. */
export interface CreateTaskValues extends NewTask {
  id: string;
  actorId: string;
  eventId: string;
  eventSubject: string;
  eventPayload: unknown;
  traceparent?: string;
  /** The client's idempotency key, if it sent one. */
  idempotencyKey?: string;
  /** The hash of the request the key came with ({@link requestHash}). */
  requestHash?: string;
}

/** Settings of the statement that are not per task. */
export interface CreateTaskSettings {
  /** How long a key answers its first task, in seconds. */
  idempotencyWindowSeconds: number;
}

/**
 * The parameters of {@link CREATE_TASKS_SQL} for a batch.
 *
 * @example
 * ```ts
 * const rows = await sql.unsafe(CREATE_TASKS_SQL, createTasksParams(batch), { prepare: true });
 * ```
 */
export function createTasksParams(
  tasks: readonly CreateTaskValues[],
  settings: CreateTaskSettings,
): unknown[] {
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
    tasks.map((t) => t.idempotencyKey ?? null),
    tasks.map((t) => t.requestHash ?? null),
    tasks.map((t) => t.eventSubject),
    settings.idempotencyWindowSeconds,
  ];
}

/**
 * The hash a key is stored with: the request's fields as stored (normalised), so the same
 * request retried matches and another request under the same key does not.
 *
 * @example
 * ```ts
 * const hash = await requestHash(task);
 * ```
 */
export async function requestHash(task: NewTask): Promise<string> {
  const canonical = JSON.stringify([
    task.title,
    task.description,
    task.requiredSkills,
    task.budgetMinor.toString(),
    task.currency,
    task.deadline?.toISOString() ?? null,
    task.requiresApproval === true,
  ]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
