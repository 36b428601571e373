-- Accounts and developer profiles. skill_tags is a JSON array of normalised tags with a GIN index,
-- so the manual's `skill_tags @> '["golang"]'` and `is_online = true` queries work as written.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('client', 'developer', 'admin')),
  display_name text NOT NULL DEFAULT '',
  bio text NOT NULL DEFAULT '',
  skill_tags jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(skill_tags) = 'array'),
  hourly_rate_minor bigint CHECK (hourly_rate_minor IS NULL OR hourly_rate_minor >= 0),
  rate_currency text,
  is_online boolean NOT NULL DEFAULT false,
  online_until timestamptz,
  last_seen_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX idx_users_skill_tags_gin ON users USING gin (skill_tags);
CREATE INDEX idx_users_online ON users (online_until) WHERE is_online;
CREATE INDEX idx_users_role_created ON users (role, created_at, id);
