/**
 * The catalog as the docs show it: the table of events in docs/operations.md is this module's
 * {@link eventTableMarkdown}, and `catalog_docs_test.ts` fails when a doc's event table (there, in
 * README.md or a service's README) says something the catalog does not.
 *
 * @module
 */
import { type AnyEventType, EVENT_TYPES, type EventProducer, EVENTS } from "./catalog.ts";

/** How the docs name each producer. */
export const PRODUCER_NAMES: Readonly<Record<EventProducer, string>> = {
  tasks: "Task Service",
  orchestrator: "Orchestrator",
  users: "User Service",
};

/** How the docs write an event's subject (a notification's pattern as `notify.<user_id>.<kind>`). */
export function docSubject(type: AnyEventType): string {
  return type === EVENTS.notification ? "notify.<user_id>.<kind>" : type.subject;
}

/** The producers of an event, as the docs name them (`Task Service, Orchestrator`). */
export function docProducers(type: AnyEventType): string {
  const producers = typeof type.producer === "string" ? [type.producer] : type.producer;
  return producers.map((p) => PRODUCER_NAMES[p]).join(", ");
}

/** The short name of an event's protobuf message (`TaskCreated`). */
export function docMessage(type: AnyEventType): string {
  return type.schema.name;
}

/** One row of the docs' table of events: subject, stream, published by, message, when. */
export function eventTableRows(): string[][] {
  return EVENT_TYPES.map((type) => [
    "`" + docSubject(type) + "`",
    "`" + type.stream.name + "`",
    docProducers(type),
    "`" + docMessage(type) + "`",
    type.summary,
  ]);
}

/**
 * The catalog's table of events in Markdown (as `deno fmt` lays it out), the one in
 * docs/operations.md.
 *
 * @example
 * ```ts
 * import { eventTableMarkdown } from "@platform/lib/events";
 * console.log(eventTableMarkdown().split("\n")[0]); // "| subject | stream | ..."
 * ```
 */
export function eventTableMarkdown(): string {
  const header = ["subject", "stream", "published by", "message", "when"];
  const rows = [header, ...eventTableRows()];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [
    line(header),
    "| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |",
    ...eventTableRows().map(line),
  ].join("\n");
}
