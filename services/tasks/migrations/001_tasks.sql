-- Tasks, their transition history, and the outbox of events published by the relay.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE tasks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id uuid NOT NULL,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  required_skills jsonb NOT NULL DEFAULT '[]'::jsonb,
  budget_minor bigint NOT NULL CHECK (budget_minor > 0),
  currency text NOT NULL,
  deadline timestamptz,
  status text NOT NULL DEFAULT 'OPEN'
    CHECK (status IN ('OPEN', 'ASSIGNED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')),
  assigned_developer_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_tasks_status_created ON tasks (status, created_at);
CREATE INDEX idx_tasks_client_created ON tasks (client_id, created_at DESC, id DESC);
CREATE INDEX idx_tasks_created ON tasks (created_at DESC, id DESC);
CREATE INDEX idx_tasks_required_skills_gin ON tasks USING gin (required_skills);

CREATE TABLE task_transitions (
  id bigserial PRIMARY KEY,
  task_id uuid NOT NULL REFERENCES tasks (id),
  from_status text,
  to_status text NOT NULL,
  actor_id text NOT NULL,
  reason text NOT NULL DEFAULT '',
  at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_task_transitions_task ON task_transitions (task_id, id);

-- Events written in the same transaction as the change; the relay publishes them to JetStream
-- with Nats-Msg-Id = id and marks them published.
CREATE TABLE task_outbox (
  id uuid PRIMARY KEY,
  seq bigserial NOT NULL UNIQUE,
  subject text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text
);

CREATE INDEX idx_task_outbox_unpublished ON task_outbox (seq) WHERE published_at IS NULL;

-- Events this service consumed (proposal.accepted), so a redelivery changes nothing.
CREATE TABLE task_processed_events (
  event_id text PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);
