/**
 * Delivery and approval in the web app (issue 20): what was delivered, the client's answers
 * (approve, request changes, dispute) and the developer's steps (submit work, withdraw before
 * starting). Each calls one TaskService RPC; the page's live feeds show the result through Watch.
 * Disputes are resolved by an admin through ResolveDispute (the web app has no admin task pages).
 *
 * @module
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { ApprovalMode, DisputeResolution, type Task, TaskStatus } from "@platform/proto/tasks/v1";
import { useApp } from "../context.ts";
import { describeError, type Problem } from "../errors.ts";
import { formatTime } from "../format.ts";
import { fieldError, ProblemBox, Section, TextField } from "./components.tsx";

const TASK_SERVICE = "Task Service";

const APPROVED_HOW: Record<number, string> = {
  [ApprovalMode.MANUAL]: "approved by the client",
  [ApprovalMode.AUTO]: "approved automatically (no answer in time)",
  [ApprovalMode.DISPUTE]: "approved by an admin after a dispute",
};

const RESOLUTION: Record<number, string> = {
  [DisputeResolution.APPROVE]: "the work stands",
  [DisputeResolution.REFUND]: "the client is refunded",
  [DisputeResolution.SPLIT]: "the budget is split",
};

/**
 * What was delivered for a task, and the dispute if there is one.
 *
 * @example
 * ```tsx
 * <DeliveryFacts task={task} />
 * ```
 */
export function DeliveryFacts(props: { task: Task }): JSX.Element | null {
  const d = props.task.delivery;
  if (!d) return null;
  return (
    <dl class="facts delivery" aria-live="polite">
      <dt>Delivered</dt>
      <dd>
        {d.note}
        {d.link && (
          <>
            {" "}
            <a href={d.link} target="_blank" rel="noopener noreferrer">{d.link}</a>
          </>
        )}
        <span class="muted">
          {` — submission ${d.submissions}, ${formatTime(d.submittedAt)}`}
        </span>
      </dd>
      {d.disputeReason && (
        <>
          <dt>Dispute</dt>
          <dd>
            {d.disputeReason}
            {d.resolution !== DisputeResolution.UNSPECIFIED &&
              ` — resolved: ${RESOLUTION[d.resolution]}${
                d.resolution === DisputeResolution.SPLIT
                  ? ` (${d.developerShareBps / 100}% to the developer)`
                  : ""
              }`}
          </dd>
        </>
      )}
      {d.approvalMode !== ApprovalMode.UNSPECIFIED && (
        <>
          <dt>Approval</dt>
          <dd>{APPROVED_HOW[d.approvalMode]}</dd>
        </>
      )}
    </dl>
  );
}

/**
 * The client's answer to submitted work: approve it, ask for changes, or dispute it.
 *
 * @example
 * ```tsx
 * {task.status === TaskStatus.SUBMITTED && <ReviewWork task={task} onDone={refresh} />}
 * ```
 */
export function ReviewWork(props: { task: Task; onDone(): void }): JSX.Element {
  const { api } = useApp();
  const [mode, setMode] = useState<"changes" | "dispute">();
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const taskId = props.task.id;

  const run = async (call: () => Promise<unknown>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await call();
      setMode(undefined);
      setNote("");
      props.onDone();
    } catch (error) {
      setProblem(describeError(error, TASK_SERVICE));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: Event) => {
    event.preventDefault();
    void run(() =>
      mode === "dispute"
        ? api.tasks.openDispute({ taskId, reason: note })
        : api.tasks.requestChanges({ taskId, note })
    );
  };

  return (
    <Section title="Review the work" id="review-work">
      <ProblemBox problem={problem} />
      <p class="muted">
        The developer submitted work. Approve it, ask for changes, or open a dispute for an admin to
        settle. Without an answer it is approved automatically after a while.
      </p>
      {!mode
        ? (
          <div class="actions">
            <button
              type="button"
              class="primary"
              disabled={busy}
              onClick={() => run(() => api.tasks.approveWork({ taskId }))}
            >
              {busy ? "Approving…" : "Approve work"}
            </button>
            <button type="button" disabled={busy} onClick={() => setMode("changes")}>
              Request changes…
            </button>
            <button type="button" class="danger" disabled={busy} onClick={() => setMode("dispute")}>
              Open a dispute…
            </button>
          </div>
        )
        : (
          <form onSubmit={submit}>
            <TextField
              id="review-note"
              label={mode === "dispute" ? "Why do you dispute it?" : "What should change?"}
              value={note}
              onValue={setNote}
              multiline
              maxLength={2000}
              required
              error={fieldError(problem, mode === "dispute" ? "reason" : "note")}
            />
            <div class="actions">
              <button
                type="submit"
                class={mode === "dispute" ? "danger" : "primary"}
                disabled={busy}
              >
                {mode === "dispute" ? "Open dispute" : "Send change request"}
              </button>
              <button type="button" onClick={() => setMode(undefined)}>Back</button>
            </div>
          </form>
        )}
    </Section>
  );
}

/**
 * The developer's form to deliver the work of an IN_PROGRESS task that requires approval.
 *
 * @example
 * ```tsx
 * <SubmitWork task={task} onDone={refresh} />
 * ```
 */
export function SubmitWork(props: { task: Task; onDone(): void }): JSX.Element {
  const { api } = useApp();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState("");
  const [link, setLink] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const id = `submit-${props.task.id}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      await api.tasks.submitWork({ taskId: props.task.id, note, link });
      setOpen(false);
      setNote("");
      setLink("");
      props.onDone();
    } catch (error) {
      setProblem(describeError(error, TASK_SERVICE));
    } finally {
      setBusy(false);
    }
  };

  if (!open) {
    return (
      <button type="button" class="primary" onClick={() => setOpen(true)}>
        Submit work<span class="sr-only">{` for "${props.task.title}"`}</span>
      </button>
    );
  }
  return (
    <form class="submit-work" onSubmit={submit}>
      <ProblemBox problem={problem} />
      <TextField
        id={`${id}-note`}
        label="What you deliver"
        value={note}
        onValue={setNote}
        multiline
        maxLength={2000}
        required
        error={fieldError(problem, "note")}
      />
      <TextField
        id={`${id}-link`}
        label="Link to the work (optional)"
        type="url"
        value={link}
        onValue={setLink}
        maxLength={2000}
        error={fieldError(problem, "link")}
      />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Submitting…" : "Send for approval"}
        </button>
        <button type="button" onClick={() => setOpen(false)}>Back</button>
      </div>
    </form>
  );
}

/**
 * The developer's "withdraw" of an ASSIGNED task, before starting it.
 *
 * @example
 * ```tsx
 * <WithdrawFromTask task={task} onDone={refresh} />
 * ```
 */
export function WithdrawFromTask(props: { task: Task; onDone(): void }): JSX.Element {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const withdraw = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      await api.tasks.withdrawFromTask({ taskId: props.task.id });
      props.onDone();
    } catch (error) {
      setProblem(describeError(error, TASK_SERVICE));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <ProblemBox problem={problem} />
      <button type="button" class="danger" disabled={busy} onClick={withdraw}>
        Withdraw<span class="sr-only">{` from "${props.task.title}"`}</span>
      </button>
    </>
  );
}

/**
 * What the developer is waiting for on a task of theirs that needs approval.
 *
 * @example
 * ```ts
 * developerDeliveryHint(task); // "Waiting for the client's approval."
 * ```
 */
export function developerDeliveryHint(task: Task): string {
  if (task.status === TaskStatus.SUBMITTED) return "Waiting for the client's approval.";
  if (task.status === TaskStatus.DISPUTED) return "Disputed: an admin will settle it.";
  if (task.status === TaskStatus.IN_PROGRESS && task.delivery?.changeRequest) {
    return `The client asked for changes: ${task.delivery.changeRequest}`;
  }
  return "";
}
