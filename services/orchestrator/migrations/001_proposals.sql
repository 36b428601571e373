-- Proposals (one per task and developer), the orchestrator's view of each task's matching, and
-- its outbox of proposal events.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE match_tasks (
  task_id uuid PRIMARY KEY,
  client_id uuid NOT NULL,
  title text NOT NULL DEFAULT '',
  required_skills jsonb NOT NULL DEFAULT '[]'::jsonb,
  budget_minor bigint,
  currency text,
  state text NOT NULL DEFAULT 'PENDING'
    CHECK (state IN ('PENDING', 'PROPOSED', 'NO_CANDIDATES', 'ASSIGNED', 'CLOSED')),
  attempts integer NOT NULL DEFAULT 0,
  last_attempt_at timestamptz,
  next_attempt_at timestamptz,
  assigned_developer_id uuid,
  task_created_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_match_tasks_retry ON match_tasks (next_attempt_at)
  WHERE state IN ('PENDING', 'NO_CANDIDATES');

CREATE TABLE proposals (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL REFERENCES match_tasks (task_id),
  developer_id uuid NOT NULL,
  score double precision NOT NULL,
  status text NOT NULL DEFAULT 'PENDING'
    CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'WITHDRAWN', 'EXPIRED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  responded_at timestamptz,
  UNIQUE (task_id, developer_id)
);

CREATE INDEX idx_proposals_created ON proposals (created_at);
CREATE INDEX idx_proposals_developer ON proposals (developer_id, created_at DESC);
CREATE INDEX idx_proposals_pending_expiry ON proposals (expires_at) WHERE status = 'PENDING';
-- At most one accepted proposal per task: the first acceptance wins.
CREATE UNIQUE INDEX proposals_one_accepted ON proposals (task_id) WHERE status = 'ACCEPTED';

CREATE TABLE proposal_outbox (
  id uuid PRIMARY KEY,
  seq bigserial NOT NULL UNIQUE,
  subject text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text
);

CREATE INDEX idx_proposal_outbox_unpublished ON proposal_outbox (seq) WHERE published_at IS NULL;

CREATE TABLE orchestrator_processed_events (
  event_id text PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);
