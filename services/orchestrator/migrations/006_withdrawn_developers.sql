-- Developers who stepped back from a task before starting it (task.developer_withdrew, issue 20):
-- the task is matched again and never proposed to them again, whatever its terms become.
CREATE TABLE IF NOT EXISTS match_task_withdrawn_developers (
  task_id uuid NOT NULL,
  developer_id uuid NOT NULL,
  withdrawn_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, developer_id)
);
