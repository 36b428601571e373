/**
 * Event payloads: proto messages encoded as JSON with proto field names (`task_id`), so that the
 * manual's `nats pub task.created '{"task_id":"test-123","title":"Test"}'` has the same shape.
 *
 * @module
 */
import {
  type DescMessage,
  fromJson,
  type JsonValue,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";

/** A payload that could not be decoded as the expected event. */
export class MalformedEventError extends Error {
  /**
   * Creates the error.
   *
   * @param schema The expected message's type name, e.g. `platform.events.v1.TaskCreated`.
   * @param cause Why decoding failed.
   */
  constructor(readonly schema: string, cause: unknown) {
    super(`not a valid ${schema}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "MalformedEventError";
  }
}

/**
 * The JSON value of an event (proto field names, defaults omitted).
 *
 * @example
 * ```ts ignore
 * const json = eventToJson(TaskCreatedSchema, create(TaskCreatedSchema, { taskId: "t1" }));
 * // { task_id: "t1" }
 * ```
 */
export function eventToJson<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): JsonValue {
  return toJson(schema, message, { useProtoFieldName: true });
}

/**
 * Encodes an event as UTF-8 JSON bytes, ready to publish.
 *
 * @example
 * ```ts ignore
 * js.publish(EVENTS.taskCreated.subject, encodeEvent(TaskCreatedSchema, event), {
 *   msgID: event.eventId,
 * });
 * ```
 */
export function encodeEvent<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(eventToJson(schema, message)));
}

/**
 * Decodes UTF-8 JSON bytes (or a JSON value) as an event; unknown fields are ignored (newer
 * producers), anything else that does not fit throws {@link MalformedEventError}.
 *
 * @example
 * ```ts ignore
 * const accepted = decodeEvent(ProposalAcceptedSchema, msg.data);
 * ```
 */
export function decodeEvent<Desc extends DescMessage>(
  schema: Desc,
  data: Uint8Array | string | JsonValue,
): MessageShape<Desc> {
  try {
    const json = data instanceof Uint8Array
      ? JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data))
      : typeof data === "string"
      ? JSON.parse(data)
      : data;
    return fromJson(schema, json, { ignoreUnknownFields: true });
  } catch (error) {
    throw new MalformedEventError(schema.typeName, error);
  }
}
