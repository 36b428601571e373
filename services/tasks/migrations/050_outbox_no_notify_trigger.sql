-- Drops the outbox's per-insert NOTIFY trigger (issue 10): pg_notify serialises commits on the
-- notification queue and halved commit throughput on a durable server. The relay is woken
-- in-process after commit and polls (OUTBOX_POLL_MS) for other replicas' events
-- (lib/events/outbox/outbox_wakeup.ts). Same SQL as dropOutboxNotifyTriggerSql("task_outbox").
DROP TRIGGER IF EXISTS task_outbox_notify ON task_outbox;
DROP FUNCTION IF EXISTS task_outbox_notify();
