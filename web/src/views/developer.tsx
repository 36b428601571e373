/**
 * A developer's page: availability (online switch with heartbeats), proposals arriving live with
 * accept and decline, the tasks they took with start and complete, and their profile.
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { Decision, type Proposal } from "@platform/proto/orchestrator/v1";
import { type Task, TaskStatus } from "@platform/proto/tasks/v1";
import { useApp } from "../context.ts";
import { describeError, type Problem } from "../errors.ts";
import {
  amountText,
  CURRENCIES,
  formatMoney,
  formatTime,
  parseAmount,
  parseSkills,
  proposalReasonText,
  proposalStatusLabel,
  taskStatusLabel,
} from "../format.ts";
import {
  type PagedFeed,
  type ProposalsView,
  type ProposalView,
  watchAssignedTasks,
  watchProposals,
} from "../live/feeds.ts";
import { answerNotice, type GivenAnswer } from "../live/answer_outcome.ts";
import type { Paged } from "../live/pages.ts";
import { keepOnline, type Presence, type PresenceState } from "../presence.ts";
import {
  Badge,
  fieldError,
  focusFirstInvalid,
  formProblem,
  ProblemBox,
  Section,
  SelectField,
  ShowMore,
  TextField,
} from "./components.tsx";
import { DeliveryFacts, developerDeliveryHint, SubmitWork, WithdrawFromTask } from "./delivery.tsx";
import { proposalTone, taskTone } from "./tones.ts";

const WANT_ONLINE_KEY = "freelance-platform.online";
/** How long the confirmation of an answer stays. */
const NOTICE_MS = 15_000;

/**
 * The developer's home.
 *
 * @example
 * ```tsx
 * <DeveloperHome />
 * ```
 */
export function DeveloperHome(): JSX.Element {
  const { session, live } = useApp();
  const name = session.get()?.user.displayName ?? "";
  const [proposals, setProposals] = useState<ProposalsView>();
  const [proposalsProblem, setProposalsProblem] = useState<Problem>();
  const [tasks, setTasks] = useState<Paged<Task>>();
  const [tasksProblem, setTasksProblem] = useState<Problem>();
  const proposalsFeed = useRef<PagedFeed | undefined>(undefined);
  const tasksFeed = useRef<PagedFeed | undefined>(undefined);

  useEffect(() => {
    proposalsFeed.current = watchProposals(live, {
      onValue: (value) => {
        setProposals(value);
        setProposalsProblem(undefined);
      },
      onError: (error) => setProposalsProblem(describeError(error, "Orchestrator")),
    });
    tasksFeed.current = watchAssignedTasks(live, {
      onValue: (value) => {
        setTasks(value);
        setTasksProblem(undefined);
      },
      onError: (error) => setTasksProblem(describeError(error, "Task Service")),
    });
    return () => {
      proposalsFeed.current?.stop();
      tasksFeed.current?.stop();
    };
  }, [live]);

  const refresh = () => {
    proposalsFeed.current?.refresh();
    tasksFeed.current?.refresh();
  };
  return (
    <div class="page">
      <h1 tabIndex={-1}>Hello, {name}</h1>
      <div class="columns">
        <div>
          <Availability />
          <Proposals
            proposals={proposals}
            assignedTaskIds={new Set(tasks?.items.map((task) => task.id))}
            problem={proposalsProblem}
            refresh={refresh}
            showMore={() => proposalsFeed.current?.showMore()}
          />
          <MyTasks
            tasks={tasks}
            problem={tasksProblem}
            refresh={refresh}
            showMore={() => tasksFeed.current?.showMore()}
          />
        </div>
        <div>
          <Profile />
        </div>
      </div>
    </div>
  );
}

function Availability(): JSX.Element {
  const { api } = useApp();
  const [wanted, setWanted] = useState(() => sessionStorage.getItem(WANT_ONLINE_KEY) === "yes");
  const [state, setState] = useState<PresenceState>({ online: false });
  const [problem, setProblem] = useState<Problem>();
  const presence = useRef<Presence | undefined>(undefined);

  useEffect(() => {
    sessionStorage.setItem(WANT_ONLINE_KEY, wanted ? "yes" : "no");
    if (!wanted) return;
    presence.current = keepOnline(api.users, (next) => {
      setState(next);
      setProblem(next.error ? describeError(next.error, "User Service") : undefined);
    });
    return () => {
      const running = presence.current;
      presence.current = undefined;
      running?.stop({ goOffline: false });
    };
  }, [wanted, api]);

  const toggle = async () => {
    if (wanted) {
      setWanted(false);
      setState({ online: false });
      try {
        await api.users.goOffline({});
        setProblem(undefined);
      } catch (error) {
        setProblem(describeError(error, "User Service"));
      }
    } else {
      setWanted(true);
    }
  };

  const online = wanted && state.online;
  return (
    <Section title="Availability" id="availability">
      <div class="switch-row">
        <button
          type="button"
          role="switch"
          aria-checked={wanted}
          class={`switch${wanted ? " switch-on" : ""}`}
          id="online-switch"
          onClick={toggle}
        >
          <span class="switch-knob" aria-hidden="true" />
          <span class="switch-label">Available for new tasks</span>
        </button>
        <p class="switch-state" role="status" aria-live="polite">
          {online
            ? `Online — matching can send you proposals. Kept alive while this tab is open${
              state.expiresAt ? `; next check before ${state.expiresAt.toLocaleTimeString()}` : ""
            }.`
            : wanted
            ? "Going online…"
            : "Offline — you will not receive proposals."}
        </p>
      </div>
      <ProblemBox problem={problem} />
    </Section>
  );
}

function Proposals(
  props: {
    proposals?: ProposalsView;
    /** Ids of the tasks assigned to the developer: an accept stands once its task is here. */
    assignedTaskIds: ReadonlySet<string>;
    problem?: Problem;
    refresh(): void;
    showMore(): void;
  },
): JSX.Element {
  const { api } = useApp();
  const [busy, setBusy] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [given, setGiven] = useState<GivenAnswer>();

  // What became of the last answer, from the lists as they are now: an accept stays provisional
  // until its task is assigned or the task's state refuses it (answer_outcome.ts).
  const notice = given
    ? answerNotice(given, {
      proposals: [
        ...(props.proposals?.pending.map((v) => v.proposal) ?? []),
        ...(props.proposals?.earlier.items ?? []),
      ],
      assignedTaskIds: props.assignedTaskIds,
    })
    : undefined;
  // A final outcome goes once the lists below have had time to show it.
  const finalText = notice?.final ? notice.text : "";
  useEffect(() => {
    if (!finalText) return;
    const timer = setTimeout(() => setGiven(undefined), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [finalText]);

  const answer = async (proposal: Proposal, decision: Decision, title: string) => {
    const proposalId = proposal.id;
    setBusy(proposalId);
    setProblem(undefined);
    try {
      await api.orchestrator.respondToProposal({ proposalId, decision });
      setGiven({
        proposalId,
        taskId: proposal.taskId,
        title,
        accept: decision === Decision.ACCEPT,
      });
      props.refresh();
    } catch (error) {
      setProblem(describeError(error, "Orchestrator"));
    } finally {
      setBusy(undefined);
    }
  };

  const pending: ProposalView[] = props.proposals?.pending ?? [];
  const past = props.proposals?.earlier.items ?? [];
  return (
    <Section title="Proposals" id="proposals">
      <ProblemBox problem={problem ?? props.problem} />
      <p class="notice" role="status" aria-live="polite" id="answer-notice">
        {notice?.text ?? ""}
      </p>
      {!props.proposals && !props.problem && <p class="muted">Loading your proposals…</p>}
      {props.proposals && pending.length === 0 && (
        <p class="muted">
          No proposals waiting. Go online and keep your skills current: new tasks that match them
          arrive here on their own.
        </p>
      )}
      <ul class="list" aria-live="polite" aria-label="Proposals waiting for your answer">
        {pending.map(({ proposal, description }) => {
          const terms = proposal.task;
          const title = terms?.title || "A task";
          return (
            <li key={proposal.id} class="item proposal" data-proposal-id={proposal.id}>
              <div class="item-main">
                <h3>{title}</h3>
                <dl class="terms">
                  <dt>Budget</dt>
                  <dd>{formatMoney(terms?.budget)}</dd>
                  <dt>Skills</dt>
                  <dd>{terms?.requiredSkills.join(", ") || "—"}</dd>
                  <dt>Deadline</dt>
                  <dd>{terms?.deadline ? formatTime(terms.deadline) : "none"}</dd>
                </dl>
                {description && <p class="description">{description}</p>}
                <p class="meta">
                  Fit {Math.round(proposal.score * 100)}% · answer before{" "}
                  {formatTime(proposal.expiresAt)}
                </p>
              </div>
              <div class="actions">
                <button
                  type="button"
                  class="primary"
                  disabled={busy === proposal.id}
                  onClick={() => answer(proposal, Decision.ACCEPT, title)}
                >
                  Accept<span class="sr-only">{` "${title}"`}</span>
                </button>
                <button
                  type="button"
                  disabled={busy === proposal.id}
                  onClick={() => answer(proposal, Decision.DECLINE, title)}
                >
                  Decline<span class="sr-only">{` "${title}"`}</span>
                </button>
              </div>
            </li>
          );
        })}
      </ul>
      {past.length > 0 && (
        <details>
          <summary>
            Earlier proposals ({past.length}
            {props.proposals?.earlier.more ? " shown" : ""})
          </summary>
          <ul class="list compact">
            {past.map((proposal) => (
              <li key={proposal.id} class="item" data-proposal-id={proposal.id}>
                <span>{proposal.task?.title || proposal.taskId}</span>{" "}
                <span>
                  <Badge tone={proposalTone(proposal.status)}>
                    {proposalStatusLabel(proposal.status)}
                  </Badge>
                  {proposalReasonText(proposal.reason) && (
                    <span class="muted">{` — ${proposalReasonText(proposal.reason)}`}</span>
                  )}
                </span>
              </li>
            ))}
          </ul>
          <ShowMore
            more={props.proposals?.earlier.more ?? false}
            shown={past.length}
            what="earlier proposals"
            onMore={props.showMore}
          />
        </details>
      )}
    </Section>
  );
}

function MyTasks(
  props: { tasks?: Paged<Task>; problem?: Problem; refresh(): void; showMore(): void },
): JSX.Element {
  const { api } = useApp();
  const [busy, setBusy] = useState<string>();
  const [problem, setProblem] = useState<Problem>();

  const act = async (task: Task, action: "start" | "complete") => {
    setBusy(task.id);
    setProblem(undefined);
    try {
      if (action === "start") await api.tasks.startTask({ taskId: task.id });
      else await api.tasks.completeTask({ taskId: task.id });
      props.refresh();
    } catch (error) {
      setProblem(describeError(error, "Task Service"));
    } finally {
      setBusy(undefined);
    }
  };

  const tasks = props.tasks?.items ?? [];
  return (
    <Section title="My tasks" id="my-tasks">
      <ProblemBox problem={problem ?? props.problem} />
      {!props.tasks && !props.problem && <p class="muted">Loading your tasks…</p>}
      {props.tasks && tasks.length === 0 && (
        <p class="muted">
          Tasks assigned to you appear here; start them, then mark them complete or submit the work
          for approval.
        </p>
      )}
      <ul class="list" aria-label="Tasks assigned to you">
        {tasks.map((task) => (
          <li key={task.id} class="item" data-task-id={task.id}>
            <div class="item-main">
              <h3>{task.title}</h3>
              <p class="meta">
                <Badge tone={taskTone(task.status)}>{taskStatusLabel(task.status)}</Badge> Budget
                {" "}
                {formatMoney(task.budget)} · deadline {formatTime(task.deadline)}
              </p>
              {developerDeliveryHint(task) && (
                <p class="hint delivery-hint">{developerDeliveryHint(task)}</p>
              )}
              <DeliveryFacts task={task} />
            </div>
            <div class="actions">
              {task.status === TaskStatus.ASSIGNED && (
                <button
                  type="button"
                  class="primary"
                  disabled={busy === task.id}
                  onClick={() => act(task, "start")}
                >
                  Start work<span class="sr-only">{` on "${task.title}"`}</span>
                </button>
              )}
              {task.status === TaskStatus.ASSIGNED && (
                <WithdrawFromTask task={task} onDone={props.refresh} />
              )}
              {task.status === TaskStatus.IN_PROGRESS && task.requiresApproval && (
                <SubmitWork task={task} onDone={props.refresh} />
              )}
              {task.status === TaskStatus.IN_PROGRESS && !task.requiresApproval && (
                <button
                  type="button"
                  class="primary"
                  disabled={busy === task.id}
                  onClick={() => act(task, "complete")}
                >
                  Mark complete<span class="sr-only">{` "${task.title}"`}</span>
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {props.tasks && (
        <ShowMore
          more={props.tasks.more}
          shown={tasks.length}
          what="tasks"
          onMore={props.showMore}
        />
      )}
    </Section>
  );
}

function Profile(): JSX.Element {
  const { api, session } = useApp();
  const me = session.get()?.user;
  const [loaded, setLoaded] = useState(false);
  const [displayName, setDisplayName] = useState("");
  const [bio, setBio] = useState("");
  const [skills, setSkills] = useState("");
  const [rate, setRate] = useState("");
  const [currency, setCurrency] = useState("USD");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [saved, setSaved] = useState("");

  useEffect(() => {
    if (!me) return;
    let cancelled = false;
    api.users.getUser({ userId: me.id }).then(({ user }) => {
      if (cancelled || !user) return;
      setDisplayName(user.displayName);
      setBio(user.bio);
      setSkills(user.skillTags.join(", "));
      if (user.hourlyRate?.currency) {
        setCurrency(user.hourlyRate.currency);
        setRate(amountText(user.hourlyRate.amountMinor, user.hourlyRate.currency));
      }
      setLoaded(true);
    }).catch((error) => {
      if (!cancelled) setProblem(describeError(error, "User Service"));
    });
    return () => {
      cancelled = true;
    };
  }, [api, me?.id]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    setSaved("");
    const amountMinor = rate.trim() === "" ? undefined : parseAmount(rate, currency);
    if (rate.trim() !== "" && amountMinor === undefined) {
      setProblem({
        kind: "input",
        field: "hourly_rate",
        message: `Hourly rate: write an amount such as 90 or 90.50 ${currency}.`,
      });
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    try {
      const { user } = await api.users.updateProfile({
        displayName,
        bio,
        skillTags: { tags: parseSkills(skills) },
        hourlyRate: amountMinor === undefined ? undefined : { currency, amountMinor },
      });
      if (user) {
        setSkills(user.skillTags.join(", "));
        const current = session.get();
        if (current) {
          session.set({ ...current, user: { ...current.user, displayName: user.displayName } });
        }
      }
      setSaved("Profile saved.");
    } catch (error) {
      setProblem(describeError(error, "User Service"));
      focusFirstInvalid();
    } finally {
      setBusy(false);
    }
  };

  const fields = ["display_name", "bio", "skill_tags", "hourly_rate"];
  return (
    <Section title="Your profile" id="profile">
      <form onSubmit={submit} aria-busy={!loaded}>
        <ProblemBox problem={formProblem(problem, fields)} />
        {/* Disabled until the saved profile is loaded, so nothing typed is overwritten by it. */}
        <fieldset class="plain" disabled={!loaded}>
          <TextField
            id="profile-name"
            label="Display name"
            value={displayName}
            onValue={setDisplayName}
            error={fieldError(problem, "display_name")}
            maxLength={100}
          />
          <TextField
            id="profile-bio"
            label="Bio"
            multiline
            value={bio}
            onValue={setBio}
            error={fieldError(problem, "bio")}
            maxLength={5000}
          />
          <TextField
            id="profile-skills"
            label="Skills"
            hint="Separated by commas, such as: go, postgresql, react. Matching uses them."
            value={skills}
            onValue={setSkills}
            error={fieldError(problem, "skill_tags")}
          />
          <div class="row">
            <TextField
              id="profile-rate"
              label="Hourly rate"
              inputMode="decimal"
              value={rate}
              onValue={setRate}
              error={fieldError(problem, "hourly_rate")}
            />
            <SelectField
              id="profile-currency"
              label="Currency"
              value={currency}
              options={CURRENCIES}
              onValue={setCurrency}
            />
          </div>
          <button type="submit" class="primary" disabled={busy || !loaded}>
            {busy ? "Saving…" : "Save profile"}
          </button>
        </fieldset>
        <p class="notice" role="status" aria-live="polite">{saved}</p>
      </form>
    </Section>
  );
}
