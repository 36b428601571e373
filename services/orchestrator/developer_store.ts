/**
 * What the orchestrator knows of developers, in SQL: `developer_presence` (from presence events)
 * and the facts matching reads from proposals and tasks (track record, load, proposals within the
 * fairness window). Moved out of proposal_store.ts (issue 23), the SQL unchanged.
 *
 * @module
 */
import type { Database, Sql, TransactionSql } from "@platform/lib/db";
import type { DeveloperStats } from "./matching/scoring.ts";

type Q = Sql | TransactionSql;

/**
 * The SQL of what the orchestrator knows of developers: presence, track record, load, the fairness cap.
 *
 * @example
 * ```ts ignore
 * const offline = await store.developers.offlineAmong(sql, [developerId]);
 * ```
 */
export class DeveloperStore {
  /** A store over the orchestrator's database (the command layer opens the transactions). */
  constructor(private readonly db: Database) {}

  /** Those of `developerIds` the orchestrator knows to be offline (presence events). */
  async offlineAmong(tx: Q, developerIds: string[]): Promise<Set<string>> {
    if (developerIds.length === 0) return new Set();
    const rows = await tx<{ developer_id: string }[]>`
      SELECT developer_id FROM developer_presence
      WHERE developer_id = ANY(${developerIds}::uuid[]) AND NOT online`;
    return new Set(rows.map((r) => r.developer_id));
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
}
