-- The marketplace loop (issue 11): deadlines, versioned terms, presence, event-driven re-matching.

-- A task's deadline (no proposal at or after it; none outlives it), its terms version (from
-- task.created: 1; task.updated: the Task Service's), and wake_seq: bumped when an event (a
-- developer online, skills added) asks for a re-match, so an attempt that looked up candidates
-- before that event retries at once instead of waiting.
ALTER TABLE match_tasks ADD COLUMN IF NOT EXISTS deadline timestamptz;
ALTER TABLE match_tasks ADD COLUMN IF NOT EXISTS terms_version integer NOT NULL DEFAULT 1;
ALTER TABLE match_tasks ADD COLUMN IF NOT EXISTS wake_seq bigint NOT NULL DEFAULT 0;

-- Each version of a task's terms, so a proposal shows the terms it was made on.
CREATE TABLE IF NOT EXISTS match_task_terms (
  task_id uuid NOT NULL,
  terms_version integer NOT NULL,
  title text NOT NULL DEFAULT '',
  required_skills jsonb NOT NULL DEFAULT '[]'::jsonb,
  budget_minor bigint,
  currency text,
  deadline timestamptz,
  PRIMARY KEY (task_id, terms_version)
);
INSERT INTO match_task_terms (task_id, terms_version, title, required_skills, budget_minor, currency)
SELECT task_id, terms_version, title, required_skills, budget_minor, currency FROM match_tasks
ON CONFLICT DO NOTHING;

-- A proposal is for one version of the terms: the same developer may be proposed the task again
-- after its terms changed. reason: why it was withdrawn, expired or cancelled. CANCELLED: accepted,
-- then the task was cancelled or expired.
ALTER TABLE proposals ADD COLUMN IF NOT EXISTS terms_version integer NOT NULL DEFAULT 1;
ALTER TABLE proposals ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE proposals DROP CONSTRAINT IF EXISTS proposals_status_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_status_check
  CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'WITHDRAWN', 'EXPIRED', 'CANCELLED'));
ALTER TABLE proposals DROP CONSTRAINT IF EXISTS proposals_task_id_developer_id_key;
CREATE UNIQUE INDEX IF NOT EXISTS proposals_task_developer_terms
  ON proposals (task_id, developer_id, terms_version);
-- A developer's pending proposals (withdrawn when they go offline).
CREATE INDEX IF NOT EXISTS idx_proposals_developer_pending ON proposals (developer_id)
  WHERE status = 'PENDING';

-- Waiting tasks by required skill: a developer coming online (or gaining skills) wakes the ones
-- they can take, and nothing else; waiting tasks have no timer of their own.
CREATE INDEX IF NOT EXISTS idx_match_tasks_waiting_skills ON match_tasks USING gin (required_skills)
  WHERE state IN ('PENDING', 'NO_CANDIDATES');

-- Presence as the orchestrator heard it (presence.* events): a developer known to be offline is
-- never proposed to, and their pending proposals are withdrawn. changed_at orders the events.
CREATE TABLE IF NOT EXISTS developer_presence (
  developer_id uuid PRIMARY KEY,
  online boolean NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_developer_presence_offline ON developer_presence (developer_id)
  WHERE NOT online;
