-- The marketplace loop (issue 11): EXPIRED tasks, versioned terms, and who holds a proposal.
--
-- EXPIRED: an OPEN task whose deadline passed (terminal). The expiry sweep finds them through the
-- partial index of OPEN tasks with a deadline.
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
  CHECK (status IN ('OPEN', 'ASSIGNED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'EXPIRED'));
CREATE INDEX IF NOT EXISTS idx_tasks_open_deadline ON tasks (deadline)
  WHERE status = 'OPEN' AND deadline IS NOT NULL;

-- 1 at creation, one more at each change of terms (title, required skills, budget, deadline): a
-- proposal is for one version, and an acceptance of an older one does not assign the task.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS terms_version integer NOT NULL DEFAULT 1;

-- A developer lists the tasks assigned to them.
CREATE INDEX IF NOT EXISTS idx_tasks_assignee_created ON tasks (assigned_developer_id, created_at DESC, id DESC)
  WHERE assigned_developer_id IS NOT NULL;

-- Who holds a proposal for a task (pending or accepted), from the orchestrator's proposal.created,
-- proposal.accepted and proposal.closed events: they see the task whole (lib/auth/task_visibility.ts).
-- rank orders the events of one proposal (created 1, accepted 2, closed 3) so a late one changes
-- nothing.
CREATE TABLE IF NOT EXISTS task_proposal_holders (
  proposal_id uuid PRIMARY KEY,
  task_id uuid NOT NULL,
  developer_id uuid NOT NULL,
  holding boolean NOT NULL,
  rank smallint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_task_proposal_holders_task_dev
  ON task_proposal_holders (task_id, developer_id) WHERE holding;
