/**
 * The event catalog is consistent (each subject on exactly one stream, which covers it; every
 * message has event_id and occurred_at), and a typo in a subject or a payload field does not
 * compile. No servers.
 */
import assert from "node:assert/strict";
import { ScalarType } from "@bufbuild/protobuf";
import {
  EVENT_TYPES,
  EVENTS,
  eventTypeOf,
  isEventSubject,
  streamSubscription,
  subjectMatches,
  subscriptionOf,
} from "./catalog.ts";
import { NotificationKind, NotificationSchema } from "@platform/proto/notifications/v1";
import { decodeEvent } from "./event_codec.ts";
import {
  NOTIFICATION_KIND_TOKENS,
  notificationEvent,
  notificationFilter,
  notificationMatchesSubject,
  notificationSubject,
} from "./notification_events.ts";
import { outboxEvent, OutboxWriter } from "./outbox/outbox_writer.ts";
import { PLATFORM_STREAM_SPECS, TASKS_STREAM } from "./streams.ts";

Deno.test("each event is on one stream, whose subjects cover its subject", () => {
  const subjects = new Set<string>();
  for (const type of EVENT_TYPES) {
    assert.ok(!subjects.has(type.subject), `${type.subject} twice`);
    subjects.add(type.subject);
    assert.ok(PLATFORM_STREAM_SPECS.includes(type.stream), `${type.subject}: unknown stream`);
    const covering = PLATFORM_STREAM_SPECS.filter((s) =>
      s.subjects.some((f) => subjectMatches(f, type.subject))
    );
    assert.deepEqual(covering.map((s) => s.name), [type.stream.name], type.subject);
    assert.equal(eventTypeOf(type.subject), type);
    if (type !== EVENTS.notification) assert.ok(isEventSubject(type.subject));
  }
  assert.equal(eventTypeOf("task.creatd"), undefined);
  const user = "0b7f0f4e-7d36-4d7e-9b8f-2a3c4d5e6f70";
  assert.equal(eventTypeOf(`notify.${user}.proposal_offered`), EVENTS.notification);
  assert.ok(isEventSubject(`notify.${user}.proposal_offered`));
  assert.ok(!isEventSubject("notify.*.*"), "the pattern itself is not a subject");
  assert.equal(EVENT_TYPES.length, Object.keys(EVENTS).length);
});

Deno.test("every event message has event_id (field 1) and occurred_at", () => {
  for (const type of EVENT_TYPES) {
    const eventId = type.schema.fields.find((f) => f.name === "event_id");
    assert.equal(eventId?.number, 1, `${type.schema.typeName}.event_id`);
    assert.equal(eventId?.fieldKind, "scalar");
    assert.equal(eventId?.scalar, ScalarType.STRING);
    const occurredAt = type.schema.fields.find((f) => f.name === "occurred_at");
    assert.equal(
      occurredAt?.fieldKind === "message" && occurredAt.message.typeName,
      "google.protobuf.Timestamp",
      `${type.schema.typeName}.occurred_at`,
    );
  }
});

Deno.test("every event names its producer and its stream", () => {
  assert.equal(EVENTS.presenceOnline.stream.name, "PRESENCE");
  assert.equal(EVENTS.presenceOnline.producer, "users");
  assert.deepEqual(EVENTS.notification.producer, ["tasks", "orchestrator"]);
  assert.equal(EVENTS.notification.stream.name, "NOTIFICATIONS");
});

Deno.test("notifications: addressed to one user, kind in the subject, never a pattern", async () => {
  const user = "0b7f0f4e-7d36-4d7e-9b8f-2a3c4d5e6f70";
  const event = notificationEvent(user, NotificationKind.PROPOSAL_OFFERED, {
    taskId: "t1",
    detail: { case: "match", value: { pendingProposals: 2 } },
  });
  assert.equal(event.subject, `notify.${user}.proposal_offered`);
  assert.equal(notificationFilter(user), `notify.${user}.>`);
  assert.ok(subjectMatches(notificationFilter(user), event.subject));
  const decoded = decodeEvent(NotificationSchema, JSON.stringify(event.payload));
  assert.equal(decoded.userId, user);
  assert.equal(decoded.kind, NotificationKind.PROPOSAL_OFFERED);
  assert.equal(decoded.eventId, event.id);
  assert.ok(notificationMatchesSubject(decoded, event.subject, user));
  assert.ok(!notificationMatchesSubject(decoded, event.subject, crypto.randomUUID()));
  assert.ok(!notificationMatchesSubject(decoded, `notify.${user}.task_assigned`, user));
  assert.equal(
    NOTIFICATION_KIND_TOKENS[NotificationKind.MATCH_STATE_CHANGED],
    "match_state_changed",
  );
  assert.throws(
    () => notificationSubject("service:tasks", NotificationKind.TASK_ASSIGNED),
    /user id/,
  );
  assert.throws(() => notificationSubject(user, NotificationKind.UNSPECIFIED), /kind/);
  // The pattern itself never reaches an outbox.
  const pattern = outboxEvent(EVENTS.notification, { userId: user });
  await assert.rejects(new OutboxWriter("x_outbox").write({} as never, [pattern]), /pattern/);
});

Deno.test("subscriptions: one stream per consumer", () => {
  assert.deepEqual(subscriptionOf(EVENTS.taskCreated), {
    stream: "TASKS",
    filterSubjects: ["task.created"],
  });
  assert.deepEqual(subscriptionOf(EVENTS.taskAssigned, EVENTS.taskStatusChanged).filterSubjects, [
    "task.assigned",
    "task.status_changed",
  ]);
  assert.throws(() => subscriptionOf(EVENTS.taskCreated, EVENTS.proposalAccepted), /one stream/);
  assert.throws(() => subscriptionOf(), /at least one/);
  assert.deepEqual(streamSubscription(TASKS_STREAM), {
    stream: "TASKS",
    filterSubjects: ["task.>"],
  });
});

Deno.test("subject filters match as NATS does", () => {
  assert.ok(subjectMatches("task.>", "task.created"));
  assert.ok(subjectMatches("task.>", "task.a.b"));
  assert.ok(!subjectMatches("task.>", "task"));
  assert.ok(subjectMatches("task.*", "task.created"));
  assert.ok(!subjectMatches("task.*", "task.a.b"));
  assert.ok(!subjectMatches("task.created", "task.created.x"));
  assert.ok(!subjectMatches("proposal.>", "task.created"));
});

Deno.test("outboxEvent: the catalog's subject, event_id = row id, occurred_at, proto JSON", () => {
  const now = new Date("2025-01-02T03:04:05Z");
  const taskId = crypto.randomUUID();
  const event = outboxEvent(EVENTS.taskAssigned, { taskId, developerId: "d1" }, { now });
  assert.equal(event.subject, "task.assigned");
  assert.equal(event.traceparent, undefined);
  assert.deepEqual(event.payload, {
    event_id: event.id,
    task_id: taskId,
    developer_id: "d1",
    occurred_at: "2025-01-02T03:04:05Z",
  });
  const decoded = decodeEvent(EVENTS.taskAssigned.schema, JSON.stringify(event.payload));
  assert.equal(decoded.eventId, event.id);

  const traced = outboxEvent(EVENTS.presenceOffline, { userId: "u1" }, {
    id: "0b7f0f4e-7d36-4d7e-9b8f-2a3c4d5e6f70",
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  });
  assert.equal(traced.id, "0b7f0f4e-7d36-4d7e-9b8f-2a3c4d5e6f70");
  assert.equal(traced.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  assert.equal((traced.payload as { event_id: string }).event_id, traced.id);
});

Deno.test("a typo in a subject or a payload field does not compile", () => {
  // Type-level checks: `deno check` (and `deno test`, which type-checks) fails if these compile.
  const typos = () => {
    // @ts-expect-error: no such event
    void EVENTS.taskCreatd;
    // @ts-expect-error: no such field in TaskCreated
    void outboxEvent(EVENTS.taskCreated, { taskIdd: "t1" });
    // @ts-expect-error: a subject outside the catalog
    const subject: typeof EVENTS.taskCreated.subject = "task.creatd";
    return subject;
  };
  assert.equal(typeof typos, "function");
});
