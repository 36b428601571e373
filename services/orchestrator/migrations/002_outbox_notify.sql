-- Wakes the proposal outbox relays after inserts (lib/events/outbox_relay.ts listens on
-- proposal_outbox_inserted), and speeds up the per-task and per-assignee lookups of matching.
CREATE OR REPLACE FUNCTION proposal_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('proposal_outbox_inserted', '');
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS proposal_outbox_notify ON proposal_outbox;
CREATE TRIGGER proposal_outbox_notify AFTER INSERT ON proposal_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION proposal_outbox_notify();

CREATE INDEX IF NOT EXISTS idx_proposals_task_status ON proposals (task_id, status);
CREATE INDEX IF NOT EXISTS idx_match_tasks_assignee ON match_tasks (assigned_developer_id)
  WHERE state = 'ASSIGNED';
