/**
 * A client's pages: post a task and see their tasks (home), and one task with its match state,
 * proposals and history arriving live, where it can be edited or cancelled.
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { MatchState } from "@platform/proto/orchestrator/v1";
import { type Task, TaskStatus } from "@platform/proto/tasks/v1";
import { useApp } from "../context.ts";
import { describeError, type Problem } from "../errors.ts";
import {
  formatMoney,
  formatTime,
  historyEntryText,
  matchStateLabel,
  proposalStatusLabel,
  taskStatusLabel,
} from "../format.ts";
import {
  type Feed,
  type PagedFeed,
  type TaskView,
  watchMyTasks,
  watchTask,
} from "../live/feeds.ts";
import type { Paged } from "../live/pages.ts";
import {
  Badge,
  focusFirstInvalid,
  formProblem,
  ProblemBox,
  Section,
  ShowMore,
  TextField,
} from "./components.tsx";
import {
  draftOf,
  EMPTY_DRAFT,
  parseDraft,
  TASK_FIELDS,
  type TaskDraft,
  TaskFields,
} from "./task_form.tsx";
import { DeliveryFacts, ReviewWork } from "./delivery.tsx";
import { PersonLink } from "./profile.tsx";
import { proposalTone, taskTone } from "./tones.ts";

const TASK_SERVICE = "Task Service";

/**
 * The client's home: post a task, and the list of their tasks.
 *
 * @example
 * ```tsx
 * <ClientHome />
 * ```
 */
export function ClientHome(): JSX.Element {
  const { live, session } = useApp();
  const [paged, setTasks] = useState<Paged<Task>>();
  const [problem, setProblem] = useState<Problem>();
  const feed = useRef<PagedFeed | undefined>(undefined);
  const tasks = paged?.items;

  useEffect(() => {
    feed.current = watchMyTasks(live, {
      onValue: (value) => {
        setTasks(value);
        setProblem(undefined);
      },
      onError: (error) => setProblem(describeError(error, TASK_SERVICE)),
    });
    return () => feed.current?.stop();
  }, [live]);

  return (
    <div class="page">
      <h1 tabIndex={-1}>Hello, {session.get()?.user.displayName}</h1>
      <div class="columns">
        <PostTask />
        <Section title="Your tasks" id="your-tasks">
          <ProblemBox problem={problem} />
          {!tasks && !problem && <p class="muted">Loading your tasks…</p>}
          {tasks?.length === 0 && <p class="muted">You have not posted a task yet.</p>}
          <ul class="list" aria-label="Your tasks">
            {tasks?.map((task) => (
              <li key={task.id} class="item" data-task-id={task.id}>
                <div class="item-main">
                  <h3>
                    <a href={`#/tasks/${task.id}`}>{task.title}</a>
                  </h3>
                  <p class="meta">
                    <Badge tone={taskTone(task.status)}>{taskStatusLabel(task.status)}</Badge>{" "}
                    {formatMoney(task.budget)} · posted {formatTime(task.createdAt)}
                  </p>
                </div>
              </li>
            ))}
          </ul>
          {paged && (
            <ShowMore
              more={paged.more}
              shown={paged.items.length}
              what="tasks"
              onMore={() => feed.current?.showMore()}
            />
          )}
        </Section>
      </div>
    </div>
  );
}

function PostTask(): JSX.Element {
  const { api } = useApp();
  const [draft, setDraft] = useState<TaskDraft>(EMPTY_DRAFT);
  const [requiresApproval, setRequiresApproval] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  // One idempotency key per task being posted: the same draft submitted again after an error
  // (an answer lost) sends the same key, so the task is created once; a changed draft, or the
  // next task after a success, gets a new one.
  const idempotency = useRef({ key: crypto.randomUUID(), draft: "" });

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    const parsed = parseDraft(draft);
    if (!parsed.ok) {
      setProblem(parsed.problem);
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    const sent = JSON.stringify(
      { ...parsed, requiresApproval },
      (_, v) => (typeof v === "bigint" ? String(v) : v),
    );
    if (sent !== idempotency.current.draft) {
      idempotency.current = { key: crypto.randomUUID(), draft: sent };
    }
    try {
      const { task } = await api.tasks.createTask({
        title: parsed.title,
        description: parsed.description,
        requiredSkills: parsed.skills,
        budget: parsed.budget,
        deadline: parsed.deadline,
        requiresApproval,
        idempotencyKey: idempotency.current.key,
      });
      idempotency.current = { key: crypto.randomUUID(), draft: "" };
      setDraft(EMPTY_DRAFT);
      setRequiresApproval(false);
      if (task) location.hash = `#/tasks/${task.id}`;
    } catch (error) {
      setProblem(describeError(error, TASK_SERVICE));
      focusFirstInvalid();
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Post a task" id="post-task">
      <form onSubmit={submit}>
        <ProblemBox problem={formProblem(problem, TASK_FIELDS)} />
        <TaskFields prefix="new" draft={draft} onDraft={setDraft} problem={problem} />
        <div class="field checkbox">
          <label for="new-requires-approval">
            <input
              id="new-requires-approval"
              type="checkbox"
              checked={requiresApproval}
              onChange={(e) => setRequiresApproval((e.currentTarget as HTMLInputElement).checked)}
            />{" "}
            I approve the work before it counts as done
          </label>
          <p class="hint">
            The developer submits the work; you approve it or ask for changes. Fixed once posted.
          </p>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Posting…" : "Post task"}
        </button>
      </form>
    </Section>
  );
}

/**
 * One task of the client's, live.
 *
 * @example
 * ```tsx
 * <TaskDetail taskId={id} />
 * ```
 */
export function TaskDetail(props: { taskId: string }): JSX.Element {
  const { live } = useApp();
  const [view, setView] = useState<TaskView>();
  const [problem, setProblem] = useState<Problem>();
  const feed = useRef<Feed | undefined>(undefined);

  useEffect(() => {
    setView(undefined);
    feed.current = watchTask(live, props.taskId, {
      onValue: (value) => {
        setView(value);
        setProblem(undefined);
      },
      onError: (error) => setProblem(describeError(error, TASK_SERVICE)),
    });
    return () => feed.current?.stop();
  }, [live, props.taskId]);

  const task = view?.task;
  return (
    <div class="page">
      <p>
        <a href="#/">← Your tasks</a>
      </p>
      <h1 tabIndex={-1}>{task?.title ?? "Task"}</h1>
      <ProblemBox problem={problem} />
      {!view && !problem && <p class="muted">Loading the task…</p>}
      {view && task && (
        <div class="columns">
          <div>
            <Section title="Where it stands" id="task-state">
              <dl class="facts" aria-live="polite">
                <dt>Status</dt>
                <dd id="task-status">
                  <Badge tone={taskTone(task.status)}>{taskStatusLabel(task.status)}</Badge>
                </dd>
                <dt>Matching</dt>
                <dd id="match-state">
                  {view.match ? matchStateLabel(view.match.state) : "Waiting for the orchestrator"}
                  {view.match && view.match.state !== MatchState.ASSIGNED &&
                    view.match.pendingProposals > 0 &&
                    ` (${view.match.pendingProposals} waiting for an answer)`}
                </dd>
                {task.assignedDeveloperId && (
                  <>
                    <dt>Assigned to</dt>
                    <dd id="task-assignee">
                      <PersonLink userId={task.assignedDeveloperId} profile={view.assignee} />
                    </dd>
                  </>
                )}
                <dt>Budget</dt>
                <dd>{formatMoney(task.budget)}</dd>
                <dt>Skills</dt>
                <dd>{task.requiredSkills.join(", ") || "—"}</dd>
                <dt>Deadline</dt>
                <dd>{formatTime(task.deadline)}</dd>
                <dt>Approval</dt>
                <dd>
                  {task.requiresApproval
                    ? "You approve the delivered work"
                    : "The developer marks it complete"}
                </dd>
                {task.description && (
                  <>
                    <dt>Description</dt>
                    <dd>{task.description}</dd>
                  </>
                )}
              </dl>
            </Section>
            {task.delivery && (
              <Section title="Delivery" id="task-delivery">
                <DeliveryFacts task={task} />
              </Section>
            )}
            <Section title="Proposals" id="task-proposals">
              {view.proposals.length === 0 && (
                <p class="muted">
                  No proposals yet. They appear here as soon as matching finds developers online.
                </p>
              )}
              <ul class="list" aria-live="polite" aria-label="Proposals for this task">
                {view.proposals.map(({ proposal, developer }) => (
                  <li key={proposal.id} class="item">
                    <div class="item-main">
                      <h3>
                        <PersonLink userId={proposal.developerId} profile={developer} />
                      </h3>
                      <p class="meta">
                        <Badge tone={proposalTone(proposal.status)}>
                          {proposalStatusLabel(proposal.status)}
                        </Badge>{" "}
                        fit {Math.round(proposal.score * 100)}%
                        {developer?.hourlyRate?.currency &&
                          ` · ${formatMoney(developer.hourlyRate)}/hour`}
                        {developer?.skillTags.length ? ` · ${developer.skillTags.join(", ")}` : ""}
                      </p>
                    </div>
                  </li>
                ))}
              </ul>
            </Section>
            <Section title="History" id="task-history">
              <ol class="history">
                {view.history.map((t, i) => (
                  <li key={i}>
                    <time>{formatTime(t.at)}</time> {historyEntryText(t)}
                  </li>
                ))}
              </ol>
            </Section>
          </div>
          <div>
            {task.status === TaskStatus.SUBMITTED && (
              <ReviewWork
                task={task}
                onDone={() => feed.current?.refresh()}
              />
            )}
            {task.status === TaskStatus.OPEN && (
              <EditTask
                task={task}
                onSaved={() => feed.current?.refresh()}
              />
            )}
            {(task.status === TaskStatus.OPEN || task.status === TaskStatus.ASSIGNED) && (
              <CancelTask
                task={task}
                onCancelled={() => feed.current?.refresh()}
              />
            )}
          </div>
        </div>
      )}
    </div>
  );
}

function EditTask(props: { task: Task; onSaved(): void }): JSX.Element {
  const { api } = useApp();
  const [draft, setDraft] = useState<TaskDraft>(() => draftOf(props.task));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [saved, setSaved] = useState("");

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    setSaved("");
    const parsed = parseDraft(draft);
    if (!parsed.ok) {
      setProblem(parsed.problem);
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    try {
      await api.tasks.updateTask({
        taskId: props.task.id,
        title: parsed.title,
        description: parsed.description,
        // Skills are sent only when changed: a task always keeps at least one, and one posted with
        // none (CreateTask allows it) can still have its title or budget edited.
        requiredSkills: sameSkills(parsed.skills, props.task.requiredSkills)
          ? undefined
          : { skills: parsed.skills },
        budget: parsed.budget,
        deadline: parsed.deadline,
      });
      setSaved("Changes saved.");
      props.onSaved();
    } catch (error) {
      setProblem(describeError(error, TASK_SERVICE));
      focusFirstInvalid();
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Edit" id="edit-task">
      <form onSubmit={submit}>
        <ProblemBox problem={formProblem(problem, TASK_FIELDS)} />
        <TaskFields prefix="edit" draft={draft} onDraft={setDraft} problem={problem} />
        <button type="submit" disabled={busy}>{busy ? "Saving…" : "Save changes"}</button>
        <p class="notice" role="status" aria-live="polite">{saved}</p>
      </form>
    </Section>
  );
}

function CancelTask(props: { task: Task; onCancelled(): void }): JSX.Element {
  const { api } = useApp();
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      await api.tasks.cancelTask({ taskId: props.task.id, reason });
      setAsking(false);
      props.onCancelled();
    } catch (error) {
      setProblem(describeError(error, TASK_SERVICE));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Cancel" id="cancel-task">
      <ProblemBox problem={problem} />
      {!asking
        ? (
          <button type="button" class="danger" onClick={() => setAsking(true)}>
            Cancel this task…
          </button>
        )
        : (
          <form onSubmit={submit}>
            <TextField
              id="cancel-reason"
              label="Why? (shown in the history)"
              value={reason}
              onValue={setReason}
            />
            <div class="actions">
              <button type="submit" class="danger" disabled={busy}>
                {busy ? "Cancelling…" : "Cancel task"}
              </button>
              <button type="button" onClick={() => setAsking(false)}>Keep it</button>
            </div>
          </form>
        )}
    </Section>
  );
}

/** Whether two skill lists name the same skills (in any order). */
function sameSkills(a: readonly string[], b: readonly string[]): boolean {
  const key = (skills: readonly string[]) => [...skills].sort().join("\n");
  return key(a) === key(b);
}
