-- Flat at scale (issue 24): online developers through partial indexes that hold only them, in
-- the orders the API reads them (ListOnlineDevelopers: most recently online first;
-- SearchDevelopers online-only: oldest account first) and by skill (RankCandidates, the online
-- filters with tags), so these reads cost the online developers they look at, not every account.
-- The predicate is `online_until IS NOT NULL` (set exactly while a developer is online: GoOnline
-- sets both, GoOffline and the presence expiry clear both), which the reads' `online_until > $1`
-- implies: the planner then estimates "still online" from online_until alone, instead of
-- multiplying it with is_online as if they were independent (10x too few rows, and a sort of every
-- online developer instead of a walk of the index in order).
--
-- On a big live database, build them first with CREATE INDEX CONCURRENTLY under the same names
-- (docs/operations.md, "Indexes on a live database"): this migration then finds them.
CREATE INDEX IF NOT EXISTS idx_users_online_developers_recent
  ON users (last_seen_at DESC NULLS LAST, id) WHERE online_until IS NOT NULL AND role = 'developer';
CREATE INDEX IF NOT EXISTS idx_users_online_developers_created
  ON users (created_at, id) WHERE online_until IS NOT NULL AND role = 'developer';
CREATE INDEX IF NOT EXISTS idx_users_online_developers_skills
  ON users USING gin (skill_tags) WHERE online_until IS NOT NULL AND role = 'developer';
