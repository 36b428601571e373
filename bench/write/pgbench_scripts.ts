/**
 * The pgbench anchor of the write benchmark: one single-row INSERT per transaction. (The other
 * anchor, CreateTask's own statement, is made here from services/tasks/create_task_sql.ts.)
 *
 * @module
 */
import {
  CREATE_TASKS_SQL,
  type CreateTaskSettings,
  createTasksParams,
  type CreateTaskValues,
} from "../../services/tasks/create_task_sql.ts";

/** The table the single-row INSERT anchor writes to. */
export const ANCHOR_TABLE_SQL =
  `CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, v text NOT NULL)`;

/** One single-row INSERT per transaction. */
export const INSERT_SCRIPT = `INSERT INTO bench_insert (v) VALUES ('x');\n`;

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
export function createTasksPgbenchScript(
  task: CreateTaskValues,
  settings: CreateTaskSettings = { idempotencyWindowSeconds: 86_400 },
): string {
  const params = createTasksParams([task], settings);
  const arrays = params.map((values, i) =>
    i === 0 || i === 9
      ? "ARRAY[gen_random_uuid()]"
      : Array.isArray(values)
      ? `ARRAY[${literal(values[0] === null ? null : String(values[0]))}]`
      : literal(String(values))
  );
  const sql = CREATE_TASKS_SQL.replace(/\$(\d+)/g, (_, n) => arrays[Number(n) - 1]);
  return sql.replace(/\s*\n\s*/g, " ").trim() + ";\n";
}
