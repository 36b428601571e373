-- CreateTask's idempotency keys (issue 21): the first task a client's key created, and a hash of
-- the request it came with, so a retry with the same key answers that task and creates nothing,
-- and the key reused for another request is refused. Written by CreateTask's own statement
-- (services/tasks/create_task_sql.ts), so a key exists exactly when its task does. A key older
-- than the window (TASK_IDEMPOTENCY_WINDOW_HOURS) counts as unused and is deleted by the expiry
-- sweep.
CREATE TABLE IF NOT EXISTS task_idempotency_keys (
  client_id uuid NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  task_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, key)
);
CREATE INDEX IF NOT EXISTS idx_task_idempotency_keys_created ON task_idempotency_keys (created_at);
