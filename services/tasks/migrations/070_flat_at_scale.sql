-- Flat at scale (issue 24): ListTasks by status in its page order (created_at DESC, id DESC,
-- superseding the (status, created_at) index), and OPEN tasks by skill (developers browsing
-- OPEN tasks with a skill) in an index that holds only OPEN tasks, so the history of closed tasks
-- does not weigh on them.
--
-- On a big live database, build them first with CREATE INDEX CONCURRENTLY under the same names
-- (docs/operations.md, "Indexes on a live database"): this migration then finds them.
CREATE INDEX IF NOT EXISTS idx_tasks_status_created_id ON tasks (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_tasks_open_skills ON tasks USING gin (required_skills)
  WHERE status = 'OPEN';
