-- A task's history lists its edits too (issue 19): an edit is a row OPEN -> OPEN, reason 'edited',
-- with what it changed ([{field, old_value, new_value}], services/tasks/domain/task_changes.ts),
-- and every row records the task's terms version after it. Rows from before this migration keep
-- NULL (the API answers 0: not recorded); new creations record 1.
ALTER TABLE task_transitions ADD COLUMN IF NOT EXISTS changes jsonb NOT NULL DEFAULT '[]';
ALTER TABLE task_transitions ADD COLUMN IF NOT EXISTS terms_version integer;
ALTER TABLE task_transitions ALTER COLUMN terms_version SET DEFAULT 1;
