/**
 * The pgbench scripts of the write benchmark: the anchor (one single-row INSERT per transaction)
 * and CreateTask's own SQL (the statements the Task Service runs for one CreateTask, with the same
 * values the benchmark's requests carry).
 *
 * @module
 */

/** The table the single-row INSERT anchor writes to. */
export const ANCHOR_TABLE_SQL =
  `CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, v text NOT NULL)`;

/** One single-row INSERT per transaction. */
export const INSERT_SCRIPT = `INSERT INTO bench_insert (v) VALUES ('x');\n`;

/** The values of a benchmark task, as the requests carry them. */
export interface BenchTask {
  clientId: string;
  title: string;
  description: string;
  requiredSkills: string[];
  budgetMinor: bigint;
  currency: string;
  /** The task.created payload as the service writes it (proto JSON). */
  eventPayload: unknown;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * CreateTask's statements for pgbench: what TaskCommands.create runs in one transaction
 * (insert the task, its first history row, its `task.created` outbox row).
 *
 * @example
 * ```ts
 * await Deno.writeTextFile(path, createTaskScript(task));
 * ```
 */
export function createTaskScript(task: BenchTask): string {
  const skills = literal(JSON.stringify(task.requiredSkills));
  return [
    "BEGIN;",
    `INSERT INTO tasks (client_id, title, description, required_skills, budget_minor, currency, deadline, created_at, updated_at) VALUES (${
      literal(task.clientId)
    }, ${literal(task.title)}, ${literal(task.description)}, ${skills}::jsonb, ${
      literal(task.budgetMinor.toString())
    }, ${
      literal(task.currency)
    }, NULL, date_trunc('milliseconds', now()), now()) RETURNING id, client_id, title, description, required_skills, budget_minor, currency, deadline, status, assigned_developer_id, created_at, updated_at, terms_version \\gset`,
    `INSERT INTO task_transitions (task_id, from_status, to_status, actor_id, reason) VALUES (:id::uuid, NULL, 'OPEN', ${
      literal(task.clientId)
    }, 'created');`,
    `INSERT INTO task_outbox (id, subject, payload, traceparent) SELECT e.id, e.subject, e.payload::jsonb, e.traceparent FROM unnest(ARRAY[gen_random_uuid()]::uuid[], ARRAY['task.created']::text[], ARRAY[${
      literal(JSON.stringify(task.eventPayload))
    }]::text[], ARRAY[NULL]::text[]) WITH ORDINALITY AS e(id, subject, payload, traceparent, n) ORDER BY e.n;`,
    "COMMIT;",
    "",
  ].join("\n");
}
