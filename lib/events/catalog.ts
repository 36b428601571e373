/**
 * The platform's event catalog: every event the services exchange over JetStream, with its
 * subject, its stream and its protobuf schema (`proto/platform/events/v1/events.proto`, and
 * `proto/platform/notifications/v1` for notifications). Code names an event through
 * {@link EVENTS} (`EVENTS.taskCreated.subject`), never by a string, so a typo in a subject does not
 * compile, and the outbox writer (`outbox/outbox_writer.ts`) types each payload by its event.
 *
 * The table of events in the docs (README.md, docs/operations.md, the services' READMEs) is
 * {@link eventTableMarkdown}'s output, and a test fails when a doc's table differs from it.
 *
 * The notification is the one event addressed to a user: its subject is a pattern
 * (`notify.*.*`), and its rows are built with `notificationEvent` (notification_events.ts), which
 * fills in the user and the kind. Every other subject is published as written.
 *
 * Payloads are JSON with proto field names (`task_id`); every message has `event_id` (also the
 * `Nats-Msg-Id`) and `occurred_at`.
 *
 * @module
 */
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  PresenceExpiredSchema,
  PresenceOfflineSchema,
  PresenceOnlineSchema,
  PresenceSkillsChangedSchema,
  ProposalAcceptedSchema,
  ProposalClosedSchema,
  ProposalCreatedSchema,
  TaskAssignedSchema,
  TaskCreatedSchema,
  TaskDeliveryStepSchema,
  TaskExpiredSchema,
  TaskStatusChangedSchema,
  TaskUpdatedSchema,
} from "@platform/proto/events/v1";
import { NotificationSchema } from "@platform/proto/notifications/v1";
import {
  NOTIFICATIONS_STREAM,
  PLATFORM_STREAM_SPECS,
  PRESENCE_STREAM,
  PROPOSALS_STREAM,
  type StreamSpec,
  TASKS_STREAM,
} from "./streams.ts";

/** The service that writes an event to its outbox. */
export type EventProducer = "tasks" | "orchestrator" | "users";

/** One event of the catalog. */
export interface EventType<
  Subject extends string = string,
  Desc extends DescMessage = DescMessage,
  Stream extends string = string,
> {
  /** The NATS subject, such as `task.created`. */
  readonly subject: Subject;
  /** The JetStream stream that stores it (its subjects cover {@link subject}). */
  readonly stream: StreamSpec & { readonly name: Stream };
  /** The protobuf message of its payload. */
  readonly schema: Desc;
  /** The service (or services) that publish it, through their outboxes. */
  readonly producer: EventProducer | readonly EventProducer[];
  /** What it means, in one sentence (for docs and tools). */
  readonly summary: string;
}

/** A stream of the catalog, its name kept as a literal type (so events group by stream). */
function stream<Name extends string>(spec: StreamSpec, name: Name): StreamSpec & { name: Name } {
  if (spec.name !== name) throw new Error(`stream ${spec.name} is not ${name}`);
  return spec as StreamSpec & { name: Name };
}

const TASKS: StreamSpec & { name: "TASKS" } = stream(TASKS_STREAM, "TASKS");
const PROPOSALS: StreamSpec & { name: "PROPOSALS" } = stream(PROPOSALS_STREAM, "PROPOSALS");
const PRESENCE: StreamSpec & { name: "PRESENCE" } = stream(PRESENCE_STREAM, "PRESENCE");
const NOTIFICATIONS: StreamSpec & { name: "NOTIFICATIONS" } = stream(
  NOTIFICATIONS_STREAM,
  "NOTIFICATIONS",
);

/**
 * Every event of the platform: the one place an event is written. Its types ({@link EventName},
 * {@link EventSubject}, {@link EventPayload}) and the docs' event tables ({@link eventTableMarkdown})
 * derive from it.
 *
 * @example
 * ```ts
 * import { EVENTS } from "@platform/lib/events";
 * console.log(EVENTS.taskCreated.subject); // "task.created"
 * console.log(EVENTS.proposalAccepted.stream.name); // "PROPOSALS"
 * ```
 */
export const EVENTS = {
  taskCreated: {
    subject: "task.created",
    stream: TASKS,
    schema: TaskCreatedSchema,
    producer: "tasks",
    summary: "A client posted a task (OPEN); the orchestrator starts matching it.",
  },
  taskUpdated: {
    subject: "task.updated",
    stream: TASKS,
    schema: TaskUpdatedSchema,
    producer: "tasks",
    summary: "An OPEN task changed (UpdateTask); carries the task, the changed fields and its " +
      "terms version.",
  },
  taskAssigned: {
    subject: "task.assigned",
    stream: TASKS,
    schema: TaskAssignedSchema,
    producer: "tasks",
    summary: "A task got its developer (from an accepted proposal or an admin's AssignTask).",
  },
  taskStatusChanged: {
    subject: "task.status_changed",
    stream: TASKS,
    schema: TaskStatusChangedSchema,
    producer: "tasks",
    summary: "Every transition of a task, with its actor and reason.",
  },
  taskExpired: {
    subject: "task.expired",
    stream: TASKS,
    schema: TaskExpiredSchema,
    producer: "tasks",
    summary: "An OPEN task's deadline passed; it is EXPIRED (terminal).",
  },
  // Delivery and approval (issue 20): one message, TaskDeliveryStep, one subject per step.
  taskWorkSubmitted: {
    subject: "task.work_submitted",
    stream: TASKS,
    schema: TaskDeliveryStepSchema,
    producer: "tasks",
    summary: "The assigned developer submitted work (SUBMITTED), with a note and maybe a link.",
  },
  taskChangesRequested: {
    subject: "task.changes_requested",
    stream: TASKS,
    schema: TaskDeliveryStepSchema,
    producer: "tasks",
    summary: "The client asked for changes to submitted work (back IN_PROGRESS), with a note.",
  },
  taskWorkApproved: {
    subject: "task.work_approved",
    stream: TASKS,
    schema: TaskDeliveryStepSchema,
    producer: "tasks",
    summary: "Submitted work was approved (COMPLETED): by the client, automatically after " +
      "AUTO_APPROVE_AFTER, or by an admin resolving a dispute.",
  },
  taskDeveloperWithdrew: {
    subject: "task.developer_withdrew",
    stream: TASKS,
    schema: TaskDeliveryStepSchema,
    producer: "tasks",
    summary:
      "The assigned developer stepped back before starting (OPEN); the orchestrator matches the " +
      "task again without them.",
  },
  taskDisputeOpened: {
    subject: "task.dispute_opened",
    stream: TASKS,
    schema: TaskDeliveryStepSchema,
    producer: "tasks",
    summary: "The client or the developer disputed submitted work (DISPUTED), with a reason.",
  },
  taskDisputeResolved: {
    subject: "task.dispute_resolved",
    stream: TASKS,
    schema: TaskDeliveryStepSchema,
    producer: "tasks",
    summary: "An admin resolved a dispute: approve or split (COMPLETED), refund (CANCELLED).",
  },
  proposalCreated: {
    subject: "proposal.created",
    stream: PROPOSALS,
    schema: ProposalCreatedSchema,
    producer: "orchestrator",
    summary: "The orchestrator proposed a task to a developer.",
  },
  proposalAccepted: {
    subject: "proposal.accepted",
    stream: PROPOSALS,
    schema: ProposalAcceptedSchema,
    producer: "orchestrator",
    summary: "A developer accepted a proposal (the first acceptance wins); the Task Service " +
      "assigns the task.",
  },
  proposalClosed: {
    subject: "proposal.closed",
    stream: PROPOSALS,
    schema: ProposalClosedSchema,
    producer: "orchestrator",
    summary: "A proposal stopped being open for its developer (declined, withdrawn, expired, or " +
      "an acceptance cancelled).",
  },
  presenceOnline: {
    subject: "presence.online",
    stream: PRESENCE,
    schema: PresenceOnlineSchema,
    producer: "users",
    summary: "A developer came online, with their skill tags.",
  },
  presenceOffline: {
    subject: "presence.offline",
    stream: PRESENCE,
    schema: PresenceOfflineSchema,
    producer: "users",
    summary: "A developer went offline on purpose.",
  },
  presenceExpired: {
    subject: "presence.expired",
    stream: PRESENCE,
    schema: PresenceExpiredSchema,
    producer: "users",
    summary: "A developer's presence lapsed: no heartbeat within the presence TTL.",
  },
  presenceSkillsChanged: {
    subject: "presence.skills_changed",
    stream: PRESENCE,
    schema: PresenceSkillsChangedSchema,
    producer: "users",
    summary: "An online developer's skill tags gained some (UpdateProfile).",
  },
  /** Addressed to one user: published as `notify.<user_id>.<kind>` (notification_events.ts). */
  notification: {
    subject: "notify.*.*",
    stream: NOTIFICATIONS,
    schema: NotificationSchema,
    producer: ["tasks", "orchestrator"],
    summary: "Something happened to a user's proposals or tasks; read by Watch.",
  },
} as const satisfies Readonly<Record<string, EventType>>;

/** The catalog's type: one entry per event, derived from {@link EVENTS}. */
export type EventCatalog = typeof EVENTS;
/** The name of an event in the catalog, such as `taskCreated`. */
export type EventName = keyof EventCatalog;
/** Any event of the catalog. */
export type AnyEventType = EventCatalog[EventName];
/** Any subject of the catalog, such as `"task.created"`. */
export type EventSubject =
  | Exclude<AnyEventType["subject"], NotificationSubjectPattern>
  | NotificationSubject;
/** The catalog's subject pattern of notifications. */
export type NotificationSubjectPattern = "notify.*.*";
/** A notification's concrete subject, `notify.<user_id>.<kind>`. */
export type NotificationSubject = `notify.${string}.${string}`;
/** The decoded payload of an event, such as `TaskCreated` for `EVENTS.taskCreated`. */
export type EventPayload<E extends AnyEventType> = MessageShape<E["schema"]>;
/** The init shape of an event's payload (what `create()` takes). */
export type EventInit<E extends AnyEventType> = MessageInitShape<E["schema"]>;

/**
 * Every event of the catalog, in the order of {@link EVENTS}.
 *
 * @example
 * ```ts
 * for (const type of EVENT_TYPES) console.log(type.subject, type.stream.name);
 * ```
 */
export const EVENT_TYPES: readonly AnyEventType[] = Object.values(EVENTS);

const bySubject = new Map<string, AnyEventType>(EVENT_TYPES.map((t) => [t.subject, t]));

/**
 * The catalog's event for a subject, or undefined for a subject it does not know.
 *
 * @example
 * ```ts
 * eventTypeOf("task.created") === EVENTS.taskCreated; // true
 * eventTypeOf("task.creatd"); // undefined
 * ```
 */
export function eventTypeOf(subject: string): AnyEventType | undefined {
  return bySubject.get(subject) ??
    (subjectMatches(EVENTS.notification.subject, subject) ? EVENTS.notification : undefined);
}

/**
 * True when `subject` is one of the catalog's subjects (a notification's `notify.<user>.<kind>`
 * included).
 *
 * @example
 * ```ts ignore
 * if (isEventSubject(event.subject)) { ... }
 * ```
 */
export function isEventSubject(subject: string): subject is EventSubject {
  return eventTypeOf(subject) !== undefined && subject !== EVENTS.notification.subject;
}

/** What a durable consumer subscribes to: one stream and subject filters within it. */
export interface EventSubscription {
  /** The stream's name, e.g. `TASKS`. */
  stream: string;
  /** The subjects to receive, e.g. `task.created`. */
  filterSubjects: string[];
}

/**
 * The subscription to some events of one stream, for a durable consumer.
 *
 * @example
 * ```ts ignore
 * new DurableConsumer({ ...subscriptionOf(EVENTS.taskCreated), durable, handler, logger });
 * // { stream: "TASKS", filterSubjects: ["task.created"] }
 * ```
 */
export function subscriptionOf(...types: AnyEventType[]): EventSubscription {
  const stream = types[0]?.stream;
  if (!stream) throw new Error("subscriptionOf needs at least one event");
  const other = types.find((t) => t.stream !== stream);
  if (other) {
    throw new Error(
      `${other.subject} is on stream ${other.stream.name}, not ${stream.name}: one consumer, one stream`,
    );
  }
  return { stream: stream.name, filterSubjects: types.map((t) => t.subject) };
}

/**
 * The subscription to every subject of a stream (`task.>`), for a consumer that dispatches on
 * the subject itself and skips the others.
 *
 * @example
 * ```ts ignore
 * streamSubscription(TASKS_STREAM); // { stream: "TASKS", filterSubjects: ["task.>"] }
 * ```
 */
export function streamSubscription(stream: StreamSpec): EventSubscription {
  return { stream: stream.name, filterSubjects: [...stream.subjects] };
}

/**
 * The names of the platform's streams (`TASKS`, `PROPOSALS`, `PRESENCE`, `NOTIFICATIONS`).
 *
 * @example
 * ```ts
 * STREAM_NAMES.includes("TASKS"); // true
 * ```
 */
export const STREAM_NAMES: readonly string[] = PLATFORM_STREAM_SPECS.map((s) => s.name);

/**
 * True when a subject filter of a stream (`task.>`, `task.*`, `task.created`) covers `subject`.
 *
 * @example
 * ```ts
 * subjectMatches("task.>", "task.created"); // true
 * subjectMatches("task.*", "proposal.created"); // false
 * ```
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
