/**
 * The pgbench anchor of the write benchmark: one single-row INSERT per transaction. (The other
 * anchor, CreateTask's own statement, comes from services/tasks/create_task_sql.ts.)
 *
 * @module
 */

/** The table the single-row INSERT anchor writes to. */
export const ANCHOR_TABLE_SQL =
  `CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, v text NOT NULL)`;

/** One single-row INSERT per transaction. */
export const INSERT_SCRIPT = `INSERT INTO bench_insert (v) VALUES ('x');\n`;
