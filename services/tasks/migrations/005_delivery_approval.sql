-- Delivery and approval (issue 20): SUBMITTED and DISPUTED, an approval mode fixed at creation,
-- the delivered work and the dispute on the task row, and the auto-approval sweep's index.
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
  CHECK (status IN ('OPEN', 'ASSIGNED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'EXPIRED',
                    'SUBMITTED', 'DISPUTED'));

-- Fixed at creation: the client approves delivered work (SubmitWork, ApproveWork) instead of the
-- developer completing it alone (CompleteTask). Existing tasks keep the manual's flow.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS requires_approval boolean NOT NULL DEFAULT false;

-- The last submission (note, optional link, when) and how many there were.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS submission_note text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS submission_link text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS submitted_at timestamptz;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS submissions integer NOT NULL DEFAULT 0;
-- The client's last change request (RequestChanges).
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS change_request text NOT NULL DEFAULT '';

-- A dispute: who opened it and why; the admin's resolution (APPROVE, REFUND, SPLIT) and a split's
-- developer share in basis points. approval_mode: how COMPLETED work was approved.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS disputed_by text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS dispute_reason text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS dispute_resolution text
  CHECK (dispute_resolution IN ('APPROVE', 'REFUND', 'SPLIT'));
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS developer_share_bps integer
  CHECK (developer_share_bps BETWEEN 1 AND 9999);
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS approval_mode text
  CHECK (approval_mode IN ('MANUAL', 'AUTO', 'DISPUTE'));

-- What the auto-approval sweep looks for: SUBMITTED tasks, oldest submission first.
CREATE INDEX IF NOT EXISTS idx_tasks_submitted_at ON tasks (submitted_at) WHERE status = 'SUBMITTED';
