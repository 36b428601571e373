-- Drops orchestrator_processed_events (issue 23): no code has read or written it since the
-- orchestrator's consumers became idempotent by their own rows (proposals, match_tasks), so it
-- only cost a table in backups and a reader's attention.
DROP TABLE IF EXISTS orchestrator_processed_events;
