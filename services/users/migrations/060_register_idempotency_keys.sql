-- Register's idempotency keys (issue 21): the account a key first created and a hash of the request
-- it came with (email, role, display name; never the password), so a retry with the same key answers
-- that account and creates nothing, and the key reused for another request is refused. Written in
-- the account's own transaction (registration_commands.ts), so a key exists exactly when its account
-- does. Keys older than 24 h count as unused and are deleted by the next keyed registration.
CREATE TABLE IF NOT EXISTS register_idempotency_keys (
  key text PRIMARY KEY,
  request_hash text NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_register_idempotency_keys_created
  ON register_idempotency_keys (created_at);
