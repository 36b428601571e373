/**
 * NATS spans, and the trace context that travels with an event:
 *
 * - the outbox row keeps the `traceparent` of the span that wrote it (the RPC or the handler of
 *   an earlier event, see `activeTraceparent`);
 * - the relay publishes each row in a PRODUCER span `publish <subject>`, child of that
 *   `traceparent`, and sends the PRODUCER span's own context as the message's `traceparent`
 *   (and `tracestate`) headers;
 * - every consumer handles a message in a CONSUMER span `process <subject>`, child of the
 *   headers' context, and active while the handler runs: its queries, its calls to other services
 *   and the events it writes belong to the same trace.
 *
 * With tracing off nothing is made: the row's `traceparent` (if any) is passed on as it came.
 *
 * @module
 */
import { context, ROOT_CONTEXT, type Span, SpanKind, trace } from "@opentelemetry/api";
import { contextFromTraceparent, formatTraceparent } from "./trace_context.ts";
import { failSpan, platformTracer } from "./tracer.ts";
import { tracingEnabled } from "./tracing_enabled.ts";
import { UUID_SOURCE } from "../domain/ids.ts";

/** The trace headers of a NATS message. */
export interface TraceHeaders {
  /** W3C `traceparent`: `00-<trace id>-<span id>-<flags>`. */
  traceparent: string;
  /** W3C `tracestate`, when the trace has one. */
  tracestate?: string;
}

/** Reads a header of a NATS message (`MsgHdrs`, or anything with `get`). */
export interface HeaderReader {
  /** The header's value; empty or undefined when absent. */
  get(name: string): string;
}

/**
 * Runs `publish` in a PRODUCER span `publish <subject>` whose parent is the row's `traceparent`;
 * `publish` gets the headers to send (the span's context). With tracing off it gets the row's
 * `traceparent` as it is, or nothing.
 *
 * @example
 * ```ts ignore
 * await tracePublish(row.subject, row.id, row.traceparent, (trace) =>
 *   js.publish(row.subject, data, { msgID: row.id, headers: natsHeaders(trace) }));
 * ```
 */
export function tracePublish<T>(
  subject: string,
  messageId: string,
  traceparent: string | null | undefined,
  publish: (headers: TraceHeaders | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingEnabled) return publish(traceparent ? { traceparent } : undefined);
  const parent = contextFromTraceparent(traceparent, undefined, ROOT_CONTEXT);
  const template = subjectTemplate(subject);
  const span = platformTracer().startSpan(`publish ${template}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      "messaging.system": "nats",
      "messaging.operation.type": "send",
      "messaging.operation.name": "publish",
      "messaging.destination.name": subject,
      "messaging.destination.template": template,
      "messaging.message.id": messageId,
    },
  }, parent);
  const spanContext = span.spanContext();
  const state = spanContext.traceState?.serialize();
  const headers: TraceHeaders = state
    ? { traceparent: formatTraceparent(spanContext), tracestate: state }
    : { traceparent: formatTraceparent(spanContext) };
  return settle(span, publish(headers));
}

/**
 * Runs a consumer's handling of one message in a CONSUMER span `process <subject>`, child of the
 * message's `traceparent` header (a new trace without one), active while `handle` runs.
 *
 * @example
 * ```ts ignore
 * await traceConsume({ subject: msg.subject, headers: msg.headers }, "orchestrator-task-created",
 *   () => handler(event));
 * ```
 */
export function traceConsume<T>(
  message: { subject: string; headers?: HeaderReader; deliveryCount?: number },
  consumer: string,
  handle: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled) return handle();
  const headers = message.headers;
  const parent = contextFromTraceparent(
    headers?.get("traceparent"),
    headers?.get("tracestate"),
    ROOT_CONTEXT,
  );
  const attributes: Record<string, string | number> = {
    "messaging.system": "nats",
    "messaging.operation.type": "process",
    "messaging.operation.name": "process",
    "messaging.destination.name": message.subject,
    "messaging.consumer.group.name": consumer,
  };
  const id = headers?.get("Nats-Msg-Id");
  if (id) attributes["messaging.message.id"] = id;
  if (message.deliveryCount !== undefined) {
    attributes["messaging.nats.delivery_count"] = message.deliveryCount;
  }
  attributes["messaging.destination.template"] = subjectTemplate(message.subject);
  const span = platformTracer().startSpan(`process ${subjectTemplate(message.subject)}`, {
    kind: SpanKind.CONSUMER,
    attributes,
  }, parent);
  return settle(span, context.with(trace.setSpan(parent, span), handle));
}

/**
 * Records that a message was handed on (a notification written to a user's Watch stream): a
 * short CONSUMER span `<name>`, child of the message's `traceparent` header. For consumers that
 * hand messages on from a loop (a generator) rather than handle each in a function.
 *
 * @example
 * ```ts ignore
 * traceDelivered("deliver notification", { subject: msg.subject, headers: msg.headers }, "watch");
 * ```
 */
export function traceDelivered(
  name: string,
  message: { subject: string; headers?: HeaderReader },
  consumer: string,
): void {
  if (!tracingEnabled) return;
  const headers = message.headers;
  const parent = contextFromTraceparent(
    headers?.get("traceparent"),
    headers?.get("tracestate"),
    ROOT_CONTEXT,
  );
  platformTracer().startSpan(name, {
    kind: SpanKind.CONSUMER,
    attributes: {
      "messaging.system": "nats",
      "messaging.operation.type": "receive",
      "messaging.destination.name": message.subject,
      "messaging.consumer.group.name": consumer,
    },
  }, parent).end();
}

const ID_TOKEN = new RegExp(`(^|\\.)${UUID_SOURCE}(?=\\.|$)`, "gi");

/**
 * A subject with its id tokens replaced by `{id}` (`notify.<user id>.task_assigned` ->
 * `notify.{id}.task_assigned`): span names stay few, as tracing backends need.
 *
 * @example
 * ```ts
 * subjectTemplate("notify.4e3daba5-8f40-4e71-884e-a7a9f8d8311c.task_assigned"); // "notify.{id}.task_assigned"
 * ```
 */
export function subjectTemplate(subject: string): string {
  return subject.replace(ID_TOKEN, "$1{id}");
}

async function settle<T>(span: Span, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}
