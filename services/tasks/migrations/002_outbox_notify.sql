-- Wakes the outbox relays (LISTEN task_outbox_inserted) when events are written; they also poll.
CREATE OR REPLACE FUNCTION task_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('task_outbox_inserted', '');
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS task_outbox_notify ON task_outbox;
CREATE TRIGGER task_outbox_notify AFTER INSERT ON task_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION task_outbox_notify();
