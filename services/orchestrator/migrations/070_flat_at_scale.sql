-- Flat at scale (issue 24): every ListProposals filter the API offers has an index in its page
-- order (created_at DESC, id DESC), so a page costs the page at any number of proposals; they
-- supersede the (created_at) and (developer_id, created_at DESC) indexes. Closed tasks by when
-- they closed, for the retention of `deno task maintenance` (ops/maintenance/retention.ts).
--
-- On a big live database, build them first with CREATE INDEX CONCURRENTLY under the same names
-- (docs/operations.md, "Indexes on a live database"): this migration then finds them and only
-- drops the superseded ones.
CREATE INDEX IF NOT EXISTS idx_proposals_created_id ON proposals (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_proposals_developer_created_id
  ON proposals (developer_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_proposals_status_created_id
  ON proposals (status, created_at DESC, id DESC);
DROP INDEX IF EXISTS idx_proposals_created;
DROP INDEX IF EXISTS idx_proposals_developer;
CREATE INDEX IF NOT EXISTS idx_match_tasks_closed ON match_tasks (updated_at) WHERE state = 'CLOSED';
