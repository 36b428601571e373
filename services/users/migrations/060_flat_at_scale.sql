-- Flat at scale (issue 24): online developers through partial indexes that hold only them, in
-- the orders the API reads them (ListOnlineDevelopers: most recently online first;
-- SearchDevelopers online-only: oldest account first) and by skill (RankCandidates, the online
-- filters with tags), so these reads cost the online developers they look at, not every account.
--
-- On a big live database, build them first with CREATE INDEX CONCURRENTLY under the same names
-- (docs/operations.md, "Indexes on a live database"): this migration then finds them.
CREATE INDEX IF NOT EXISTS idx_users_online_developers_recent
  ON users (last_seen_at DESC NULLS LAST, id) WHERE is_online AND role = 'developer';
CREATE INDEX IF NOT EXISTS idx_users_online_developers_created
  ON users (created_at, id) WHERE is_online AND role = 'developer';
CREATE INDEX IF NOT EXISTS idx_users_online_developers_skills
  ON users USING gin (skill_tags) WHERE is_online AND role = 'developer';
