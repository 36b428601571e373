/**
 * Seeds a whole platform of a chosen size straight in SQL (generate_series, no round trip per
 * row), through the schema the services' migrations create:
 *
 * - users: `developers` developers (1-5 skills each drawn Zipf-like, s = 1, from 200 tags
 *   `tag000`..`tag199`; rates 20-120 USD; 10% online with a presence an hour long) and one
 *   client for every ten developers; accounts spread over two years;
 * - tasks: `tasks` tasks of every status (OPEN 10%, ASSIGNED 3%, IN_PROGRESS 5%, COMPLETED 60%,
 *   CANCELLED 12%, EXPIRED 10%), 1-3 required skills by the same law, with their transitions
 *   (1-4 a task);
 * - the orchestrator's view: a match_tasks row and its terms per task (OPEN: PROPOSED or
 *   NO_CANDIDATES; ASSIGNED, IN_PROGRESS: ASSIGNED; the rest CLOSED), three proposals per task
 *   (PENDING on PROPOSED tasks, answered or expired elsewhere, one ACCEPTED per assigned task),
 *   presence as the orchestrator heard it;
 * - one published outbox row per task in task_outbox and proposal_outbox, one per two
 *   developers in user_outbox.
 *
 * Nothing is due: no proposal past its expiry, no OPEN task past its deadline, no presence run
 * out, no unpublished outbox row, so the sweeps measure what finding nothing costs.
 *
 * @module
 */
import type postgres from "postgres";

/** How big a platform to seed. */
export interface PlatformSize {
  developers: number;
  tasks: number;
}

/** The number of skill tags, and the tag of rank `k` (0 the most popular). */
export const TAG_COUNT = 200;
/** The tag of popularity rank `k` (0 is the most common). */
export const tag = (k: number): string => `tag${String(k).padStart(3, "0")}`;

/** Zipf-like rank in [0, TAG_COUNT) from a uniform `u` (an SQL expression): exp(u ln(N+1)) - 1. */
const zipfRank = (u: string) =>
  `least(${TAG_COUNT - 1}, floor(exp((${u}) * ln(${TAG_COUNT + 1})) - 1)::int)`;
const tagOf = (rank: string) => `'tag' || lpad((${rank})::text, 3, '0')`;

/**
 * Seeds the platform into an empty, migrated database; `log` hears each step with its time.
 *
 * @example
 * ```ts
 * await seedPlatform(sql, { developers: 10_000, tasks: 100_000 }, console.log);
 * ```
 */
export async function seedPlatform(
  sql: postgres.Sql,
  size: PlatformSize,
  log: (line: string) => void,
): Promise<void> {
  const D = size.developers;
  const C = Math.max(1, Math.floor(D / 10));
  const T = size.tasks;
  const step = async (name: string, statement: string) => {
    const started = performance.now();
    await sql.unsafe(statement);
    log(`  seed ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  await sql.unsafe(`SET statement_timeout = 0`);
  await sql.unsafe(`SET synchronous_commit = off`);
  await sql.unsafe(`SET maintenance_work_mem = '256MB'`);
  await sql.unsafe(`SELECT setseed(0.42)`);

  await step(
    `${D} developers, ${C} clients`,
    `
    INSERT INTO users (id, email, password_hash, role, display_name, bio, skill_tags,
                       hourly_rate_minor, rate_currency, is_online, online_until, last_seen_at,
                       created_at, updated_at)
    SELECT gen_random_uuid(), 'dev' || i || '@scale.test', 'x', 'developer', 'Developer ' || i,
           'Seeded by bench:scale',
           (SELECT coalesce(jsonb_agg(DISTINCT ${tagOf(zipfRank("random() + g * 0"))}), '[]')
              FROM generate_series(1, 1 + (hashint4(i) & 4)) g),
           2000 + (hashint4(i * 7) & 8191) + (hashint4(i * 13) & 2047),
           'USD',
           i % 10 = 0,
           CASE WHEN i % 10 = 0 THEN now() + interval '1 hour' END,
           now() - make_interval(secs => (i * 37) % 86400),
           timestamptz '2024-12-01' + make_interval(secs => i::float8 / ${D} * 63072000),
           now()
    FROM generate_series(1, ${D}) i;
    INSERT INTO users (id, email, password_hash, role, display_name, created_at, updated_at)
    SELECT gen_random_uuid(), 'client' || i || '@scale.test', 'x', 'client', 'Client ' || i,
           timestamptz '2024-12-01' + make_interval(secs => i::float8 / ${C} * 63072000), now()
    FROM generate_series(1, ${C}) i;
    CREATE TEMP TABLE seed_developers AS
      SELECT (row_number() OVER (ORDER BY created_at, id)) - 1 AS n, id FROM users
      WHERE role = 'developer';
    CREATE UNIQUE INDEX ON seed_developers (n);
    CREATE TEMP TABLE seed_clients AS
      SELECT (row_number() OVER (ORDER BY created_at, id)) - 1 AS n, id FROM users
      WHERE role = 'client';
    CREATE UNIQUE INDEX ON seed_clients (n);`,
  );

  // Status by i mod 100: 0-9 OPEN, 10-12 ASSIGNED, 13-17 IN_PROGRESS, 18-77 COMPLETED,
  // 78-89 CANCELLED, 90-99 EXPIRED. Task i: client i mod C, assignee (i * 7) mod D.
  await step(
    `${T} tasks`,
    `
    CREATE TEMP TABLE seed_tasks AS
    SELECT i, gen_random_uuid() AS id,
           CASE WHEN i % 100 < 10 THEN 'OPEN' WHEN i % 100 < 13 THEN 'ASSIGNED'
                WHEN i % 100 < 18 THEN 'IN_PROGRESS' WHEN i % 100 < 78 THEN 'COMPLETED'
                WHEN i % 100 < 90 THEN 'CANCELLED' ELSE 'EXPIRED' END AS status,
           timestamptz '2024-12-01' + make_interval(secs => i::float8 / ${T} * 63072000)
             AS created_at
    FROM generate_series(0, ${T - 1}) i;
    INSERT INTO tasks (id, client_id, title, description, required_skills, budget_minor, currency,
                       deadline, status, assigned_developer_id, created_at, updated_at)
    SELECT s.id, c.id, 'Task ' || s.i, 'Seeded by bench:scale',
           (SELECT jsonb_agg(DISTINCT ${tagOf(zipfRank("random() + g * 0"))})
              FROM generate_series(1, 1 + (hashint4(s.i) & 1) + (hashint4(s.i * 3) & 1)) g),
           10000 + (hashint4(s.i * 11) & 1048575), 'USD',
           CASE WHEN s.status = 'OPEN' AND s.i % 2 = 0
                THEN now() + make_interval(days => 1 + s.i % 60) END,
           s.status,
           CASE WHEN s.status IN ('ASSIGNED', 'IN_PROGRESS', 'COMPLETED') THEN d.id END,
           s.created_at, s.created_at
    FROM seed_tasks s
    JOIN seed_clients c ON c.n = s.i % ${C}
    JOIN seed_developers d ON d.n = (s.i * 7) % ${D};`,
  );

  await step(
    "task transitions",
    `
    INSERT INTO task_transitions (task_id, from_status, to_status, actor_id, reason, at)
    SELECT s.id, path[k], path[k + 1], 'seed', '', s.created_at + make_interval(hours => k)
    FROM seed_tasks s,
         LATERAL (SELECT CASE s.status
                    WHEN 'OPEN' THEN ARRAY[NULL, 'OPEN']
                    WHEN 'ASSIGNED' THEN ARRAY[NULL, 'OPEN', 'ASSIGNED']
                    WHEN 'IN_PROGRESS' THEN ARRAY[NULL, 'OPEN', 'ASSIGNED', 'IN_PROGRESS']
                    WHEN 'COMPLETED' THEN ARRAY[NULL, 'OPEN', 'ASSIGNED', 'IN_PROGRESS', 'COMPLETED']
                    ELSE ARRAY[NULL, 'OPEN', s.status] END AS path) p,
         generate_series(1, array_length(p.path, 1) - 1) k;`,
  );

  await step(
    "match tasks and terms",
    `
    INSERT INTO match_tasks (task_id, client_id, title, required_skills, budget_minor, currency,
                             state, attempts, last_attempt_at, next_attempt_at,
                             assigned_developer_id, task_created_at, created_at, updated_at,
                             deadline)
    SELECT t.id, t.client_id, t.title, t.required_skills, t.budget_minor, t.currency,
           CASE WHEN t.status = 'OPEN' AND s.i % 20 < 12 THEN 'PROPOSED'
                WHEN t.status = 'OPEN' THEN 'NO_CANDIDATES'
                WHEN t.status IN ('ASSIGNED', 'IN_PROGRESS') THEN 'ASSIGNED'
                ELSE 'CLOSED' END,
           1, t.created_at,
           CASE WHEN t.status = 'OPEN' AND s.i % 20 >= 12
                THEN now() + make_interval(hours => 6 + s.i % 6) END,
           CASE WHEN t.status IN ('ASSIGNED', 'IN_PROGRESS') THEN t.assigned_developer_id END,
           t.created_at, t.created_at, t.created_at, t.deadline
    FROM tasks t JOIN seed_tasks s USING (id);
    INSERT INTO match_task_terms (task_id, terms_version, title, required_skills, budget_minor,
                                  currency, deadline)
    SELECT task_id, 1, title, required_skills, budget_minor, currency, deadline FROM match_tasks;`,
  );

  // Three proposals a task: developers (i * 7 + k * 7919) mod D. On a PROPOSED task they are
  // PENDING (expiring in 1-48 h) and for online developers (the generation's i = 10, 20, ... is
  // seed_developers' n = 9, 19, ...); on an assigned or completed one the first is ACCEPTED (to the
  // assignee) and the others DECLINED; elsewhere EXPIRED, DECLINED, WITHDRAWN.
  await step(
    `${3 * T} proposals`,
    `
    INSERT INTO proposals (task_id, developer_id, score, status, created_at, expires_at,
                           responded_at, terms_version, reason)
    SELECT s.id, d.id, 0.5 + (k * 0.1), st.status, s.created_at + make_interval(secs => k),
           CASE WHEN st.status = 'PENDING' THEN now() + make_interval(hours => 1 + s.i % 48)
                ELSE s.created_at + interval '1 day' END,
           CASE WHEN st.status IN ('ACCEPTED', 'DECLINED', 'WITHDRAWN')
                THEN s.created_at + interval '1 hour' END,
           1,
           CASE st.status WHEN 'EXPIRED' THEN 'TIMED_OUT'
                          WHEN 'WITHDRAWN' THEN 'DEVELOPER_OFFLINE' END
    FROM seed_tasks s
    JOIN match_tasks m ON m.task_id = s.id
    CROSS JOIN generate_series(0, 2) k
    JOIN seed_developers d
      ON d.n = CASE WHEN k = 0 AND m.state <> 'PROPOSED' AND m.state <> 'NO_CANDIDATES'
                      AND s.status IN ('ASSIGNED', 'IN_PROGRESS', 'COMPLETED')
                    THEN (s.i * 7) % ${D}
                    -- pending proposals are for online developers (n % 10 = 9)
                    WHEN m.state = 'PROPOSED'
                    THEN ((s.i * 7 + k * 7919) % ${Math.max(1, Math.floor(D / 10))}) * 10 + 9
                    ELSE (s.i * 7 + 1 + k * 7919) % ${D} END
    CROSS JOIN LATERAL (SELECT CASE
        WHEN m.state = 'PROPOSED' THEN 'PENDING'
        WHEN m.state = 'NO_CANDIDATES' THEN 'EXPIRED'
        WHEN s.status IN ('ASSIGNED', 'IN_PROGRESS', 'COMPLETED') AND k = 0 THEN 'ACCEPTED'
        WHEN k = 0 THEN 'EXPIRED' WHEN k = 1 THEN 'DECLINED' ELSE 'WITHDRAWN' END AS status) st;`,
  );

  await step(
    "presence, holders and outboxes",
    `
    INSERT INTO developer_presence (developer_id, online, changed_at)
    SELECT id, is_online, coalesce(last_seen_at, now()) FROM users
    WHERE role = 'developer' AND (is_online OR hashint4(hashtext(id::text)) % 3 = 0);
    INSERT INTO task_proposal_holders (proposal_id, task_id, developer_id, holding, rank)
    SELECT id, task_id, developer_id, status IN ('PENDING', 'ACCEPTED'),
           CASE status WHEN 'PENDING' THEN 1 WHEN 'ACCEPTED' THEN 2 ELSE 3 END
    FROM proposals;
    INSERT INTO task_outbox (id, subject, payload, created_at, published_at)
    SELECT gen_random_uuid(), 'task.created', jsonb_build_object('task_id', id), created_at,
           created_at FROM seed_tasks;
    INSERT INTO proposal_outbox (id, subject, payload, created_at, published_at)
    SELECT gen_random_uuid(), 'proposal.created', jsonb_build_object('task_id', id), created_at,
           created_at FROM seed_tasks;
    INSERT INTO user_outbox (id, subject, payload, created_at, published_at)
    SELECT gen_random_uuid(), 'presence.online', jsonb_build_object('developer_id', id),
           now() - interval '1 day', now() - interval '1 day'
    FROM seed_developers WHERE n % 2 = 0;`,
  );

  await step("VACUUM ANALYZE", `VACUUM ANALYZE`);
}
