/**
 * Consumers dispatch through the catalog: a consumer of a stream gives one typed handler per
 * event of that stream, keyed by the catalog's name (`taskUpdated`), or `"skip"` for an event it
 * does not use. Adding an event to a stream of the catalog makes every consumer of that stream fail
 * to compile until it says what to do with it. The payload is decoded with the event's schema
 * (a malformed one throws the codec's `MalformedEventError`); a subject the catalog does not know
 * throws {@link UnprocessableEventError}; the consumer terminates both.
 *
 * @module
 */
import {
  type AnyEventType,
  type EventCatalog,
  type EventName,
  type EventPayload,
  EVENTS,
  eventTypeOf,
} from "./catalog.ts";
import { type ConsumedEvent, UnprocessableEventError } from "./durable_consumer.ts";
import { decodeEvent } from "./event_codec.ts";

/** The name of a stream of the catalog, such as `TASKS`. */
export type CatalogStreamName = AnyEventType["stream"]["name"];

/** The catalog's names of the events on one stream, e.g. `taskCreated | taskUpdated | ...`. */
export type EventsOnStream<Stream extends CatalogStreamName> = {
  [K in EventName]: EventCatalog[K]["stream"]["name"] extends Stream ? K : never;
}[EventName];

/** Handles one decoded event of the catalog. */
export type CatalogEventHandler<K extends EventName> = (
  payload: EventPayload<EventCatalog[K]>,
  event: ConsumedEvent,
) => Promise<void> | void;

/** What a consumer of one stream does with each of its events: a handler, or `"skip"`. */
export type StreamHandlers<Stream extends CatalogStreamName> = {
  [K in EventsOnStream<Stream>]: CatalogEventHandler<K> | "skip";
};

/** One decoded event of the catalog: its name and its payload, typed together. */
export type DecodedEvent<Names extends EventName = EventName> = {
  [K in Names]: { name: K; payload: EventPayload<EventCatalog[K]> };
}[Names];

const nameOf = new Map<AnyEventType, EventName>(
  (Object.keys(EVENTS) as EventName[]).map((name) => [EVENTS[name], name]),
);

/**
 * The catalog's name of a subject's event, or undefined for a subject it does not know.
 *
 * @example
 * ```ts
 * import { eventNameOf } from "@platform/lib/events";
 * console.log(eventNameOf("task.created")); // "taskCreated"
 * ```
 */
export function eventNameOf(subject: string): EventName | undefined {
  const type = eventTypeOf(subject);
  return type && subject !== EVENTS.notification.subject ? nameOf.get(type) : undefined;
}

/**
 * Decodes a consumed event of one stream by its catalog entry; undefined for an event of the
 * catalog on another stream. Throws {@link UnprocessableEventError} for a subject the catalog does
 * not know and the codec's `MalformedEventError` for a payload that does not decode.
 *
 * @example
 * ```ts
 * import { decodeStreamEvent } from "@platform/lib/events";
 * const data = new TextEncoder().encode('{"task_id":"t1"}');
 * const decoded = decodeStreamEvent("TASKS", { subject: "task.expired", data });
 * if (decoded?.name === "taskExpired") console.log(decoded.payload.taskId); // "t1"
 * ```
 */
export function decodeStreamEvent<Stream extends CatalogStreamName>(
  stream: Stream,
  event: Pick<ConsumedEvent, "subject" | "data">,
): DecodedEvent<EventsOnStream<Stream>> | undefined;
export function decodeStreamEvent(
  stream: CatalogStreamName,
  event: Pick<ConsumedEvent, "subject" | "data">,
): DecodedEvent | undefined {
  const name = eventNameOf(event.subject);
  if (!name) throw new UnprocessableEventError(`unknown event subject ${event.subject}`);
  const type: AnyEventType = EVENTS[name];
  if (type.stream.name !== stream) return undefined;
  const payload = decodeEvent(type.schema, event.data);
  return { name, payload } as DecodedEvent;
}

/**
 * A durable consumer's handler that dispatches each event of `stream` to its handler by the
 * catalog; events marked `"skip"` (and events of other streams) are acknowledged untouched.
 *
 * @example
 * ```ts
 * import { dispatchStream } from "@platform/lib/events";
 * const handler = dispatchStream("PROPOSALS", {
 *   proposalCreated: (created) => console.log("proposed", created.proposalId),
 *   proposalAccepted: "skip",
 *   proposalClosed: "skip",
 * });
 * ```
 */
export function dispatchStream<Stream extends CatalogStreamName>(
  stream: Stream,
  handlers: StreamHandlers<Stream>,
): (event: ConsumedEvent) => Promise<void> {
  return async (event) => {
    const name = eventNameOf(event.subject);
    if (!name) throw new UnprocessableEventError(`unknown event subject ${event.subject}`);
    const handle = (handlers as Record<string, CatalogEventHandler<EventName> | "skip">)[name];
    if (handle === undefined || handle === "skip") return;
    const decoded = decodeStreamEvent(stream, event);
    if (decoded) await handle(decoded.payload as never, event);
  };
}
