-- Tasks by required skill in page order (issue 24): one row per (task, skill) with the task's
-- status and creation time, kept by a trigger in the transaction that writes the task, so
-- ListTasks with a skill (and a status) reads one index range in (created_at DESC, id DESC) order
-- and costs the page, not every task that ever required the skill. The GIN index on
-- required_skills stays for the manual's ad-hoc `required_skills @> ...` queries.
CREATE TABLE IF NOT EXISTS task_skills (
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  skill text NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (task_id, skill)
);
CREATE INDEX IF NOT EXISTS idx_task_skills_page
  ON task_skills (skill, created_at DESC, task_id DESC);
CREATE INDEX IF NOT EXISTS idx_task_skills_status_page
  ON task_skills (skill, status, created_at DESC, task_id DESC);

CREATE OR REPLACE FUNCTION task_skills_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.required_skills = OLD.required_skills THEN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
      UPDATE task_skills SET status = NEW.status WHERE task_id = NEW.id;
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM task_skills WHERE task_id = NEW.id;
  END IF;
  IF jsonb_typeof(NEW.required_skills) = 'array' THEN
    INSERT INTO task_skills (task_id, skill, status, created_at)
    SELECT DISTINCT NEW.id, s, NEW.status, NEW.created_at
    FROM jsonb_array_elements_text(NEW.required_skills) s;
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS task_skills_sync ON tasks;
CREATE TRIGGER task_skills_sync AFTER INSERT OR UPDATE OF required_skills, status ON tasks
  FOR EACH ROW EXECUTE FUNCTION task_skills_sync();

INSERT INTO task_skills (task_id, skill, status, created_at)
SELECT DISTINCT t.id, s, t.status, t.created_at
FROM tasks t, jsonb_array_elements_text(t.required_skills) s
WHERE jsonb_typeof(t.required_skills) = 'array'
ON CONFLICT DO NOTHING;
