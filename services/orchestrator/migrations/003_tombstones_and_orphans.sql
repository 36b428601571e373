-- A task.status_changed / task.assigned that arrives before the task's task.created (the two
-- durable consumers run independently) leaves a tombstone row: the task's final state with no
-- owner yet, so that the late task.created finds a closed task and matches nothing. The owner and
-- the task's details are filled in when task.created arrives.
ALTER TABLE match_tasks ALTER COLUMN client_id DROP NOT NULL;

-- The sweeper's safety net looks for PROPOSED tasks left without a PENDING proposal.
CREATE INDEX IF NOT EXISTS idx_match_tasks_proposed ON match_tasks (task_id)
  WHERE state = 'PROPOSED';
