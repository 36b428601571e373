/**
 * The platform's event catalog: every event the services exchange over JetStream, with its
 * subject, its stream and its protobuf schema (`proto/platform/events/v1/events.proto`, and
 * `proto/platform/notifications/v1` for notifications). Code names an event through
 * {@link EVENTS} (`EVENTS.taskCreated.subject`), never by a string, so a typo in a subject does not
 * compile, and the outbox writer (`outbox/outbox_writer.ts`) types each payload by its event.
 *
 * | event | subject | stream | producer | message |
 * | --- | --- | --- | --- | --- |
 * | taskCreated | `task.created` | TASKS | tasks | TaskCreated |
 * | taskUpdated | `task.updated` | TASKS | tasks | TaskUpdated |
 * | taskAssigned | `task.assigned` | TASKS | tasks | TaskAssigned |
 * | taskStatusChanged | `task.status_changed` | TASKS | tasks | TaskStatusChanged |
 * | taskExpired | `task.expired` | TASKS | tasks | TaskExpired |
 * | taskWorkSubmitted | `task.work_submitted` | TASKS | tasks | TaskDeliveryStep |
 * | taskChangesRequested | `task.changes_requested` | TASKS | tasks | TaskDeliveryStep |
 * | taskWorkApproved | `task.work_approved` | TASKS | tasks | TaskDeliveryStep |
 * | taskDeveloperWithdrew | `task.developer_withdrew` | TASKS | tasks | TaskDeliveryStep |
 * | taskDisputeOpened | `task.dispute_opened` | TASKS | tasks | TaskDeliveryStep |
 * | taskDisputeResolved | `task.dispute_resolved` | TASKS | tasks | TaskDeliveryStep |
 * | proposalCreated | `proposal.created` | PROPOSALS | orchestrator | ProposalCreated |
 * | proposalAccepted | `proposal.accepted` | PROPOSALS | orchestrator | ProposalAccepted |
 * | proposalClosed | `proposal.closed` | PROPOSALS | orchestrator | ProposalClosed |
 * | presenceOnline | `presence.online` | PRESENCE | users | PresenceOnline |
 * | presenceOffline | `presence.offline` | PRESENCE | users | PresenceOffline |
 * | presenceExpired | `presence.expired` | PRESENCE | users | PresenceExpired |
 * | presenceSkillsChanged | `presence.skills_changed` | PRESENCE | users | PresenceSkillsChanged |
 * | notification | `notify.<user_id>.<kind>` | NOTIFICATIONS | tasks, orchestrator | Notification |
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
> {
  /** The NATS subject, such as `task.created`. */
  readonly subject: Subject;
  /** The JetStream stream that stores it (its subjects cover {@link subject}). */
  readonly stream: StreamSpec;
  /** The protobuf message of its payload. */
  readonly schema: Desc;
  /** The service (or services) that publish it, through their outboxes. */
  readonly producer: EventProducer | readonly EventProducer[];
  /** False while no service publishes it yet (reserved for a later phase). */
  readonly published: boolean;
  /** What it means, in one sentence (for docs and tools). */
  readonly summary: string;
}

/** The catalog's type: one entry per event. */
export interface EventCatalog {
  /** A client posted a task (OPEN); the orchestrator starts matching it. */
  readonly taskCreated: EventType<"task.created", typeof TaskCreatedSchema>;
  /** An OPEN task changed (UpdateTask). */
  readonly taskUpdated: EventType<"task.updated", typeof TaskUpdatedSchema>;
  /** A task got its developer. */
  readonly taskAssigned: EventType<"task.assigned", typeof TaskAssignedSchema>;
  /** Every transition of a task, with its actor and reason. */
  readonly taskStatusChanged: EventType<"task.status_changed", typeof TaskStatusChangedSchema>;
  /** An OPEN task's deadline passed; it is EXPIRED (terminal). */
  readonly taskExpired: EventType<"task.expired", typeof TaskExpiredSchema>;
  /** Delivery and approval (issue 20): the developer submitted work (SUBMITTED). */
  readonly taskWorkSubmitted: EventType<"task.work_submitted", typeof TaskDeliveryStepSchema>;
  /** The client asked for changes to submitted work (back IN_PROGRESS). */
  readonly taskChangesRequested: EventType<
    "task.changes_requested",
    typeof TaskDeliveryStepSchema
  >;
  /** Submitted work was approved (COMPLETED): manually, automatically or through a dispute. */
  readonly taskWorkApproved: EventType<"task.work_approved", typeof TaskDeliveryStepSchema>;
  /** The assigned developer stepped back before starting (OPEN, matched again without them). */
  readonly taskDeveloperWithdrew: EventType<
    "task.developer_withdrew",
    typeof TaskDeliveryStepSchema
  >;
  /** The client or the developer disputed submitted work (DISPUTED). */
  readonly taskDisputeOpened: EventType<"task.dispute_opened", typeof TaskDeliveryStepSchema>;
  /** An admin resolved a dispute (approve, refund or split). */
  readonly taskDisputeResolved: EventType<"task.dispute_resolved", typeof TaskDeliveryStepSchema>;
  /** The orchestrator proposed a task to a developer. */
  readonly proposalCreated: EventType<"proposal.created", typeof ProposalCreatedSchema>;
  /** A developer accepted a proposal (the first acceptance wins). */
  readonly proposalAccepted: EventType<"proposal.accepted", typeof ProposalAcceptedSchema>;
  /** A proposal stopped being open for its developer. */
  readonly proposalClosed: EventType<"proposal.closed", typeof ProposalClosedSchema>;
  /** A developer came online, with their skill tags. */
  readonly presenceOnline: EventType<"presence.online", typeof PresenceOnlineSchema>;
  /** A developer went offline on purpose. */
  readonly presenceOffline: EventType<"presence.offline", typeof PresenceOfflineSchema>;
  /** A developer's presence lapsed: no heartbeat within the presence TTL. */
  readonly presenceExpired: EventType<"presence.expired", typeof PresenceExpiredSchema>;
  /** An online developer's skill tags gained some (UpdateProfile). */
  readonly presenceSkillsChanged: EventType<
    "presence.skills_changed",
    typeof PresenceSkillsChangedSchema
  >;
  /** Addressed to one user: published as `notify.<user_id>.<kind>` (notification_events.ts). */
  readonly notification: EventType<"notify.*.*", typeof NotificationSchema>;
}

/**
 * Every event of the platform.
 *
 * @example
 * ```ts
 * filterSubjects: [EVENTS.taskCreated.subject]; // "task.created"
 * decodeEvent(EVENTS.proposalAccepted.schema, msg.data);
 * ```
 */
export const EVENTS: EventCatalog = {
  taskCreated: {
    subject: "task.created",
    stream: TASKS_STREAM,
    schema: TaskCreatedSchema,
    producer: "tasks",
    published: true,
    summary: "A client posted a task (OPEN); the orchestrator starts matching it.",
  },
  taskUpdated: {
    subject: "task.updated",
    stream: TASKS_STREAM,
    schema: TaskUpdatedSchema,
    producer: "tasks",
    published: true,
    summary: "An OPEN task changed (UpdateTask); carries the task, the changed fields and its " +
      "terms version.",
  },
  taskAssigned: {
    subject: "task.assigned",
    stream: TASKS_STREAM,
    schema: TaskAssignedSchema,
    producer: "tasks",
    published: true,
    summary: "A task got its developer (from an accepted proposal or an admin's AssignTask).",
  },
  taskStatusChanged: {
    subject: "task.status_changed",
    stream: TASKS_STREAM,
    schema: TaskStatusChangedSchema,
    producer: "tasks",
    published: true,
    summary: "Every transition of a task, with its actor and reason.",
  },
  taskExpired: {
    subject: "task.expired",
    stream: TASKS_STREAM,
    schema: TaskExpiredSchema,
    producer: "tasks",
    published: true,
    summary: "An OPEN task's deadline passed; it is EXPIRED (terminal).",
  },
  ...deliveryEvents(),
  proposalCreated: {
    subject: "proposal.created",
    stream: PROPOSALS_STREAM,
    schema: ProposalCreatedSchema,
    producer: "orchestrator",
    published: true,
    summary: "The orchestrator proposed a task to a developer.",
  },
  proposalAccepted: {
    subject: "proposal.accepted",
    stream: PROPOSALS_STREAM,
    schema: ProposalAcceptedSchema,
    producer: "orchestrator",
    published: true,
    summary: "A developer accepted a proposal (the first acceptance wins); the Task Service " +
      "assigns the task.",
  },
  proposalClosed: {
    subject: "proposal.closed",
    stream: PROPOSALS_STREAM,
    schema: ProposalClosedSchema,
    producer: "orchestrator",
    published: true,
    summary: "A proposal stopped being open for its developer (declined, withdrawn, expired, or " +
      "an acceptance cancelled).",
  },
  presenceOnline: {
    subject: "presence.online",
    stream: PRESENCE_STREAM,
    schema: PresenceOnlineSchema,
    producer: "users",
    published: true,
    summary: "A developer came online, with their skill tags.",
  },
  presenceOffline: {
    subject: "presence.offline",
    stream: PRESENCE_STREAM,
    schema: PresenceOfflineSchema,
    producer: "users",
    published: true,
    summary: "A developer went offline on purpose.",
  },
  presenceExpired: {
    subject: "presence.expired",
    stream: PRESENCE_STREAM,
    schema: PresenceExpiredSchema,
    producer: "users",
    published: true,
    summary: "A developer's presence lapsed: no heartbeat within the presence TTL.",
  },
  presenceSkillsChanged: {
    subject: "presence.skills_changed",
    stream: PRESENCE_STREAM,
    schema: PresenceSkillsChangedSchema,
    producer: "users",
    published: true,
    summary: "An online developer's skill tags gained some (UpdateProfile).",
  },
  notification: {
    subject: "notify.*.*",
    stream: NOTIFICATIONS_STREAM,
    schema: NotificationSchema,
    producer: ["tasks", "orchestrator"],
    published: true,
    summary: "Something happened to a user's proposals or tasks; read by Watch.",
  },
};

/** The delivery and approval events (issue 20): one message, one subject per step. */
function deliveryEvents(): Pick<
  EventCatalog,
  | "taskWorkSubmitted"
  | "taskChangesRequested"
  | "taskWorkApproved"
  | "taskDeveloperWithdrew"
  | "taskDisputeOpened"
  | "taskDisputeResolved"
> {
  const step = <S extends string>(subject: S, summary: string) => ({
    subject,
    stream: TASKS_STREAM,
    schema: TaskDeliveryStepSchema,
    producer: "tasks" as const,
    published: true,
    summary,
  });
  return {
    taskWorkSubmitted: step(
      "task.work_submitted",
      "The assigned developer submitted work (SUBMITTED), with a note and maybe a link.",
    ),
    taskChangesRequested: step(
      "task.changes_requested",
      "The client asked for changes to submitted work (back IN_PROGRESS), with a note.",
    ),
    taskWorkApproved: step(
      "task.work_approved",
      "Submitted work was approved (COMPLETED): by the client, automatically after " +
        "AUTO_APPROVE_AFTER, or by an admin resolving a dispute.",
    ),
    taskDeveloperWithdrew: step(
      "task.developer_withdrew",
      "The assigned developer stepped back before starting (OPEN); the orchestrator matches the " +
        "task again without them.",
    ),
    taskDisputeOpened: step(
      "task.dispute_opened",
      "The client or the developer disputed submitted work (DISPUTED), with a reason.",
    ),
    taskDisputeResolved: step(
      "task.dispute_resolved",
      "An admin resolved a dispute: approve or split (COMPLETED), refund (CANCELLED).",
    ),
  };
}

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
 * ```ts
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
 * ```ts
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
 * ```ts
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
