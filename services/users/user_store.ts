/**
 * The users table: every SQL statement of the User Service, and nothing else.
 *
 * @module
 */
import type { Database, Sql, TransactionSql } from "@platform/lib/db";
import { AlreadyExistsError } from "@platform/lib/errors";
import type { PagePosition } from "./domain/page_token.ts";
import type { RankQuery } from "./domain/rank_request.ts";
import type { UserRecord, UserRole } from "./user_record.ts";

interface UserRow {
  id: string;
  email: string;
  role: UserRole;
  display_name: string;
  bio: string;
  skill_tags: string[];
  hourly_rate_minor: bigint | null;
  rate_currency: string | null;
  is_online: boolean;
  last_seen_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, email, role, display_name, bio, skill_tags, hourly_rate_minor, rate_currency,
  is_online, last_seen_at, created_at, updated_at`;

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    displayName: row.display_name,
    bio: row.bio,
    skillTags: row.skill_tags,
    hourlyRate: row.hourly_rate_minor !== null && row.rate_currency !== null
      ? { currency: row.rate_currency, amountMinor: BigInt(row.hourly_rate_minor) }
      : undefined,
    isOnline: row.is_online,
    lastSeenAt: row.last_seen_at ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A partial profile change; undefined fields stay as they are. */
export interface ProfilePatch {
  displayName?: string;
  bio?: string;
  skillTags?: string[];
  hourlyRate?: { currency: string; amountMinor: bigint };
}

/** How a tag filter matches. */
export type TagMatch = "all" | "any";

/** A transaction to run a statement in (the presence commands' and their outbox's). */
type Tx = Sql | TransactionSql;

/** A developer as RankCandidates returns them. */
export interface RankedDeveloper {
  id: string;
  skillTags: string[];
  hourlyRate?: { currency: string; amountMinor: bigint };
  /** The matcher's score with no history, rounded to 6 places. */
  baseScore: number;
  skillCoverage: number;
}

/** A developer whose presence ran out. */
export interface ExpiredPresence {
  id: string;
  /** The last heartbeat (online_until minus the TTL it was set with). */
  lastHeartbeatAt: Date | null;
}

/**
 * Reads and writes users.
 *
 * @example
 * ```ts
 * const store = new UserStore(db);
 * const user = await store.findById(id);
 * ```
 */
export class UserStore {
  constructor(private readonly db: Database) {}

  /** Inserts an account; {@link AlreadyExistsError} when the email is taken. */
  async insert(input: {
    email: string;
    passwordHash: string;
    role: UserRole;
    displayName: string;
  }, tx?: Tx): Promise<UserRecord> {
    const statement = (sql: Tx) =>
      sql<UserRow[]>`
        INSERT INTO users (email, password_hash, role, display_name)
        VALUES (${input.email}, ${input.passwordHash}, ${input.role}, ${input.displayName})
        ON CONFLICT ((lower(email))) DO NOTHING
        RETURNING ${sql.unsafe(COLUMNS)}`;
    const rows = tx ? await statement(tx) : await this.db.run(statement);
    if (rows.length === 0) {
      throw new AlreadyExistsError("an account with this email already exists; log in instead");
    }
    return toRecord(rows[0]);
  }

  /** The account and its password hash, by email. */
  async findCredentials(
    email: string,
  ): Promise<{ user: UserRecord; passwordHash: string } | undefined> {
    const rows = await this.db.run((sql) =>
      sql<(UserRow & { password_hash: string })[]>`
        SELECT ${sql.unsafe(COLUMNS)}, password_hash FROM users WHERE lower(email) = ${email}`
    );
    return rows[0] ? { user: toRecord(rows[0]), passwordHash: rows[0].password_hash } : undefined;
  }

  /**
   * What a registration idempotency key created within the last `windowHours`: its request hash,
   * the account and the account's password hash; undefined when the key is unused.
   */
  async findRegistration(
    key: string,
    windowHours: number,
    tx?: Tx,
  ): Promise<{ requestHash: string; user: UserRecord; passwordHash: string } | undefined> {
    const statement = (sql: Tx) =>
      sql<(UserRow & { password_hash: string; request_hash: string })[]>`
        SELECT ${sql.unsafe(COLUMNS.replace(/(\w+)/g, "u.$1"))}, u.password_hash, k.request_hash
        FROM register_idempotency_keys k JOIN users u ON u.id = k.user_id
        WHERE k.key = ${key} AND k.created_at > now() - make_interval(hours => ${windowHours})`;
    const rows = tx ? await statement(tx) : await this.db.run(statement);
    const row = rows[0];
    return row
      ? { requestHash: row.request_hash, user: toRecord(row), passwordHash: row.password_hash }
      : undefined;
  }

  /**
   * Records the account a registration key created, in the account's transaction; false when the
   * key is taken (by a registration that committed first). Keys past the window are deleted first.
   */
  async recordRegistration(
    key: string,
    requestHash: string,
    userId: string,
    windowHours: number,
    tx: Tx,
  ): Promise<boolean> {
    await tx`
      DELETE FROM register_idempotency_keys
      WHERE created_at <= now() - make_interval(hours => ${windowHours})`;
    const rows = await tx`
      INSERT INTO register_idempotency_keys (key, request_hash, user_id)
      VALUES (${key}, ${requestHash}, ${userId})
      ON CONFLICT (key) DO NOTHING
      RETURNING key`;
    return rows.length === 1;
  }

  /** One user by id. */
  async findById(id: string): Promise<UserRecord | undefined> {
    const rows = await this.db.run((sql) =>
      sql<UserRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM users WHERE id = ${id}`
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Applies a profile patch in `tx` (the user's row locked) and returns the user with the skill
   * tags before the change; undefined when the user does not exist.
   */
  async updateProfile(
    id: string,
    patch: ProfilePatch,
    tx: Tx,
  ): Promise<(UserRecord & { previousSkillTags: string[] }) | undefined> {
    const [row] = await tx<(UserRow & { previous_skill_tags: string[] })[]>`
        WITH old AS (SELECT id, skill_tags AS previous_skill_tags FROM users WHERE id = ${id}
                     FOR UPDATE)
        UPDATE users u SET
          display_name = coalesce(${patch.displayName ?? null}, display_name),
          bio = coalesce(${patch.bio ?? null}, bio),
          skill_tags = coalesce(${
      patch.skillTags ? tx.json(patch.skillTags) : null
    }::jsonb, skill_tags),
          hourly_rate_minor = coalesce(${
      patch.hourlyRate?.amountMinor.toString() ?? null
    }::bigint, hourly_rate_minor),
          rate_currency = coalesce(${patch.hourlyRate?.currency ?? null}, rate_currency),
          updated_at = now()
        FROM old WHERE u.id = old.id
        RETURNING ${tx.unsafe(COLUMNS.replace(/(\w+)/g, "u.$1"))}, old.previous_skill_tags`;
    return row ? { ...toRecord(row), previousSkillTags: row.previous_skill_tags } : undefined;
  }

  /**
   * Marks a developer online until now + ttl. Returns whether the flag changed (was offline).
   * Undefined when there is no such developer.
   */
  async goOnline(
    id: string,
    ttlSeconds: number,
    tx?: Tx,
  ): Promise<{ changed: boolean; until: Date; skillTags: string[] } | undefined> {
    const statement = (sql: Tx) =>
      sql<{ was_online: boolean; online_until: Date; skill_tags: string[] }[]>`
        UPDATE users u SET
          is_online = true,
          online_until = now() + make_interval(secs => ${ttlSeconds}),
          last_seen_at = CASE WHEN u.is_online THEN u.last_seen_at ELSE now() END
        FROM (SELECT id, is_online AS was_online FROM users WHERE id = ${id} FOR UPDATE) old
        WHERE u.id = old.id AND u.role = 'developer'
        RETURNING old.was_online, u.online_until, u.skill_tags`;
    const rows = tx ? await statement(tx) : await this.db.run(statement);
    return rows[0]
      ? { changed: !rows[0].was_online, until: rows[0].online_until, skillTags: rows[0].skill_tags }
      : undefined;
  }

  /** Extends an online developer's presence; undefined when they are not online. */
  async heartbeat(id: string, ttlSeconds: number): Promise<Date | undefined> {
    const rows = await this.db.run((sql) =>
      sql<{ online_until: Date }[]>`
        UPDATE users SET online_until = now() + make_interval(secs => ${ttlSeconds})
        WHERE id = ${id} AND is_online AND online_until > now()
        RETURNING online_until`
    );
    return rows[0]?.online_until;
  }

  /** Marks a user offline. Returns whether the flag changed. */
  async goOffline(id: string, tx?: Tx): Promise<boolean> {
    const statement = (sql: Tx) =>
      sql`
        UPDATE users SET is_online = false, online_until = NULL, last_seen_at = now()
        WHERE id = ${id} AND is_online
        RETURNING id`;
    const rows = tx ? await statement(tx) : await this.db.run(statement);
    return rows.length > 0;
  }

  /**
   * Marks offline everyone whose presence ran out (at most `limit`, skipping rows another
   * transaction holds: a heartbeat at that moment wins); returns them with their last heartbeat,
   * given the TTL it was extended by.
   */
  async expirePresence(tx?: Tx, ttlSeconds = 0, limit = 10_000): Promise<ExpiredPresence[]> {
    const statement = (sql: Tx) =>
      sql<{ id: string; last_heartbeat_at: Date | null }[]>`
        WITH due AS (
          SELECT id, online_until FROM users
          WHERE is_online AND online_until <= now()
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        UPDATE users u SET is_online = false, online_until = NULL, last_seen_at = now()
        FROM due WHERE u.id = due.id
        RETURNING u.id, due.online_until - make_interval(secs => ${ttlSeconds}) AS last_heartbeat_at`;
    const rows = tx ? await statement(tx) : await this.db.run(statement);
    return rows.map((row) => ({ id: row.id, lastHeartbeatAt: row.last_heartbeat_at }));
  }

  /** How many users are online (the manual's `SELECT count(*) FROM users WHERE is_online`). */
  async countOnline(): Promise<number> {
    const rows = await this.db.run((sql) =>
      sql<{ n: bigint }[]>`SELECT count(*) AS n FROM users WHERE is_online = true`
    );
    return Number(rows[0].n);
  }

  /** Online developers with the tags, most recently online first. */
  async listOnline(tags: string[], match: TagMatch, limit: number): Promise<UserRecord[]> {
    const rows = await this.db.run((sql) =>
      sql<UserRow[]>`
        SELECT ${sql.unsafe(COLUMNS)} FROM users
        WHERE role = 'developer' AND online_until > ${presenceCutoff()}
          ${tagFilter(sql, tags, match)}
        ORDER BY last_seen_at DESC NULLS LAST, id
        LIMIT ${limit}`
    );
    return rows.map(toRecord);
  }

  /**
   * The best `limit` online developers for a task, ranked in the database by the matcher's score
   * (services/orchestrator/matching/scoring.ts) for a developer with no history: track 0.5,
   * load 1, fairness 1, so only skill coverage and rate fit vary. The arithmetic is the matcher's,
   * in the same order, in float8 (IEEE double like JavaScript), rounded as `Math.round(x * 1e6) /
   * 1e6` is; ties by id. The skill filter uses the GIN index (`?|`); eligibility is the matcher's
   * (coverage >= the minimum, and above 0 when skills are required).
   */
  async rankCandidates(q: RankQuery): Promise<RankedDeveloper[]> {
    const w = q.weights;
    const n = q.skills.length;
    const budgetMinor = q.budget ? q.budget.amountMinor.toString() : null;
    const rows = await this.db.run((sql) =>
      sql<{
        id: string;
        skill_tags: string[];
        hourly_rate_minor: bigint | null;
        rate_currency: string | null;
        skill: number;
        score: number;
      }[]>`
        WITH c AS (
          SELECT u.id, u.skill_tags, u.hourly_rate_minor, u.rate_currency,
                 CASE WHEN ${n}::int = 0 THEN 1::float8
                      ELSE (SELECT count(*) FROM jsonb_array_elements_text(u.skill_tags) t
                            WHERE t = ANY(${q.skills}::text[]))::float8 / ${n}::float8
                 END AS skill
          FROM users u
          WHERE u.role = 'developer' AND u.online_until > ${presenceCutoff()}
            ${n > 0 ? sql`AND u.skill_tags ?| ${q.skills}::text[]` : sql``}
            ${q.exclude.length > 0 ? sql`AND u.id <> ALL(${q.exclude}::uuid[])` : sql``}
        ), r AS (
          SELECT c.*,
                 CASE WHEN ${budgetMinor}::int8 IS NULL
                        OR c.hourly_rate_minor IS NULL OR c.rate_currency IS NULL
                        OR upper(c.rate_currency) <> ${q.budget?.currency ?? ""}::text
                      THEN 0.5::float8
                      WHEN c.hourly_rate_minor <= 0 THEN 1::float8
                      ELSE LEAST(1::float8, GREATEST(0::float8,
                             ${budgetMinor}::int8::float8 /
                             (c.hourly_rate_minor::float8 * ${q.rateReferenceHours}::float8)))
                 END AS rate
          FROM c
          WHERE c.skill >= ${q.minSkillCoverage}::float8 AND (${n}::int = 0 OR c.skill > 0)
        ), s AS (
          SELECT r.*,
                 LEAST(1::float8, GREATEST(0::float8,
                   ((((${w.skill}::float8 * r.skill + ${w.trackRecord}::float8 * 0.5::float8)
                      + ${w.rate}::float8 * r.rate) + ${w.load}::float8 * 1::float8)
                      + ${w.fairness}::float8 * 1::float8)
                   / ((((${w.skill}::float8 + ${w.trackRecord}::float8) + ${w.rate}::float8)
                      + ${w.load}::float8) + ${w.fairness}::float8))) AS raw
          FROM r
        )
        SELECT id, skill_tags, hourly_rate_minor, rate_currency, skill,
               floor(raw * 1000000::float8 + 0.5::float8) / 1000000::float8 AS score
        FROM s
        ORDER BY score DESC, id
        LIMIT ${q.limit}`
    );
    return rows.map((row) => ({
      id: row.id,
      skillTags: row.skill_tags,
      hourlyRate: row.hourly_rate_minor !== null && row.rate_currency !== null
        ? { currency: row.rate_currency, amountMinor: BigInt(row.hourly_rate_minor) }
        : undefined,
      baseScore: Number(row.score),
      skillCoverage: Number(row.skill),
    }));
  }

  /**
   * A page of developers with the tags, oldest account first (keyset on created_at, id). Each
   * row comes with its position at full (microsecond) precision for the next page token; it is
   * passed back as text because postgres.js would round a timestamptz parameter to milliseconds.
   */
  async search(options: {
    tags: string[];
    match: TagMatch;
    onlineOnly: boolean;
    limit: number;
    after?: PagePosition;
  }): Promise<Array<{ user: UserRecord; position: PagePosition }>> {
    const { tags, match, onlineOnly, limit, after } = options;
    const rows = await this.db.run((sql) =>
      sql<(UserRow & { position_at: string })[]>`
        SELECT ${sql.unsafe(COLUMNS)}, created_at::text AS position_at FROM users
        WHERE role = 'developer'
          ${tagFilter(sql, tags, match)}
          ${onlineOnly ? sql`AND online_until > ${presenceCutoff()}` : sql``}
          ${
        after
          ? sql`AND (created_at, id) > (${after.createdAt}::text::timestamptz, ${after.id}::uuid)`
          : sql``
      }
        ORDER BY created_at, id
        LIMIT ${limit}`
    );
    return rows.map((row) => ({
      user: toRecord(row),
      position: { createdAt: row.position_at, id: row.id },
    }));
  }
}

/**
 * "Still online" for the reads: presence not run out by now, the service's clock, as a parameter.
 * (online_until is set exactly while is_online is: GoOnline sets both, GoOffline and the expiry
 * clear both; the reads test online_until alone so the planner does not multiply two conditions
 * that are one, and finds the partial indexes of migrations/070_flat_at_scale.sql.)
 * The planner estimates a comparison with `now()` at a default third of the rows; with a value it
 * reads the statistics, sees that (nearly) every online developer qualifies, and walks the
 * partial index of online developers in the read's order instead of sorting all of them. A clock
 * a second apart from the database's moves the edge of a 60 s presence by that second; the
 * writes (heartbeat, expiry) keep the database's clock.
 */
function presenceCutoff(): Date {
  return new Date();
}

// deno-lint-ignore no-explicit-any
function tagFilter(sql: any, tags: string[], match: TagMatch) {
  if (tags.length === 0) return sql``;
  return match === "any"
    ? sql`AND skill_tags ?| ${tags}::text[]`
    : sql`AND skill_tags @> ${sql.json(tags)}::jsonb`;
}
