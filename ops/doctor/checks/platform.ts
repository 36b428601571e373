/**
 * Doctor: the manual's daily database quick checks (online users, open tasks, proposals in the
 * last hour) and the indexes its troubleshooting guide says must exist.
 *
 * @module
 */
import { errorMessage } from "../../shared/errors.ts";
import { type Sql, withTimeout } from "../../shared/db.ts";
import { formatCount } from "../../shared/format.ts";
import type { Finding } from "../finding.ts";

/** The manual's three quick checks, as written there. */
export const QUICK_CHECKS = [
  { check: "online users", sql: "SELECT count(*) FROM users WHERE is_online = true" },
  { check: "open tasks", sql: "SELECT count(*) FROM tasks WHERE status = 'OPEN'" },
  {
    check: "proposals last hour",
    sql: "SELECT count(*) FROM proposals WHERE created_at > NOW() - INTERVAL '1 hour'",
  },
] as const;

/** Indexes the manual's "High Latency" section adds, with its statement. */
export const EXPECTED_INDEXES = [
  {
    name: "idx_users_skill_tags_gin",
    table: "users",
    create: "CREATE INDEX CONCURRENTLY idx_users_skill_tags_gin ON users USING gin(skill_tags);",
  },
  {
    name: "idx_tasks_status_created",
    table: "tasks",
    create: "CREATE INDEX CONCURRENTLY idx_tasks_status_created ON tasks(status, created_at);",
  },
] as const;

/**
 * One finding per quick check (info), or a warning when the table is missing.
 *
 * @example
 * ```ts
 * const findings = await checkPlatformData(sql);
 * ```
 */
export async function checkPlatformData(sql: Sql): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const quick of QUICK_CHECKS) {
    try {
      const [row] = await withTimeout(
        sql.unsafe<{ count: string }[]>(quick.sql),
        10_000,
        quick.check,
      );
      findings.push({
        group: "platform",
        check: quick.check,
        status: "info",
        summary: formatCount(Number(row.count)),
        data: { count: Number(row.count), query: quick.sql },
      });
    } catch (error) {
      findings.push({
        group: "platform",
        check: quick.check,
        status: "warn",
        summary: `cannot count: ${errorMessage(error)}`,
        action: [
          "the platform's schema is missing or incomplete: start the services once (they migrate at start)",
        ],
      });
    }
  }
  const rows = await withTimeout(
    sql<{ name: string }[]>`
      SELECT c.relname AS name FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('i', 'r')`,
    10_000,
    "indexes",
  );
  const present = new Set(rows.map((r) => r.name));
  // A missing table is already reported above; only its indexes are this check's business.
  const missing = EXPECTED_INDEXES.filter((i) => present.has(i.table) && !present.has(i.name));
  findings.push({
    group: "platform",
    check: "indexes",
    status: missing.length === 0 ? "ok" : "warn",
    summary: missing.length === 0
      ? `${EXPECTED_INDEXES.map((i) => i.name).join(", ")} present`
      : `missing: ${missing.map((i) => i.name).join(", ")}`,
    action: missing.length === 0 ? undefined : missing.map((i) => i.create),
  });
  return findings;
}
