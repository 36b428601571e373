/**
 * The outbox gauges: `outbox_backlog{outbox}` (events not yet published) and
 * `outbox_oldest_event_age_seconds{outbox}`, read from each registered outbox table at scrape
 * time (cached for half a second), so they report even while no relay runs (NATS down).
 *
 * @module
 */
import type { Database } from "../../db/database.ts";
import type { Metrics } from "../../metrics/registry.ts";
import { assertOutboxTable } from "./outbox_table.ts";

const backlogGauges = new WeakSet<Metrics>();
const tablesByMetrics = new WeakMap<Metrics, Map<string, Database>>();

/** One pair of gauges per registry; each registered table is a label value. */
function registerBacklogGauges(metrics: Metrics): void {
  if (backlogGauges.has(metrics)) return;
  backlogGauges.add(metrics);
  let cache: { at: number; values: Promise<Array<[string, number, number]>> } | undefined;
  const read = () => {
    if (!cache || Date.now() - cache.at > 500) {
      const tables = [...(tablesByMetrics.get(metrics) ?? new Map<string, Database>()).entries()];
      cache = {
        at: Date.now(),
        values: Promise.all(tables.map(async ([name, database]) => {
          const [row] = await database.run((sql) =>
            sql<{ n: string; age: number | null }[]>`
              SELECT count(*) AS n,
                     extract(epoch FROM now() - min(created_at))::float8 AS age
              FROM ${sql(name)} WHERE published_at IS NULL`, 2000);
          return [name, Number(row.n), row.age ?? 0] as [string, number, number];
        })).catch(() => []),
      };
    }
    return cache.values;
  };
  metrics.gauge("outbox_backlog", "Outbox events not yet published.", ["outbox"], async (g) => {
    for (const [name, n] of await read()) g.set({ outbox: name }, n);
  });
  metrics.gauge(
    "outbox_oldest_event_age_seconds",
    "Age of the oldest unpublished outbox event (0 when none).",
    ["outbox"],
    async (g) => {
      for (const [name, , age] of await read()) g.set({ outbox: name }, age);
    },
  );
}

/**
 * Registers `table` for the `outbox_backlog` and `outbox_oldest_event_age_seconds` gauges of
 * `metrics`, so they report from start even before a relay runs (NATS down).
 *
 * @example
 * ```ts ignore
 * registerOutboxMetrics(metrics, db, "task_outbox");
 * ```
 */
export function registerOutboxMetrics(metrics: Metrics, db: Database, table: string): void {
  assertOutboxTable(table);
  let tables = tablesByMetrics.get(metrics);
  if (!tables) tablesByMetrics.set(metrics, tables = new Map());
  tables.set(table, db);
  registerBacklogGauges(metrics);
}
