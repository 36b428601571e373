/**
 * Response messages a handler hands out many times (a cached profile, a health status): created
 * once, frozen, and marked, so the unary fast path encodes each of them once per format and
 * answers later calls with the same bytes.
 *
 * @module
 */
import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";

const frozen = new WeakSet<object>();

/**
 * Creates a message, freezes it (and everything in it) and marks it as safe to encode once.
 *
 * @example
 * ```ts ignore
 * const serving = frozenMessage(HealthCheckResponseSchema, { status: ServingStatus.SERVING });
 * ```
 */
export function frozenMessage<Desc extends DescMessage>(
  schema: Desc,
  init: MessageInitShape<Desc>,
): MessageShape<Desc> {
  const message = create(schema, init);
  deepFreeze(message);
  frozen.add(message);
  return message;
}

/**
 * True for a message made by {@link frozenMessage}.
 *
 * @example
 * ```ts ignore
 * isFrozenMessage(frozenMessage(EmptySchema, {})); // true
 * ```
 */
export function isFrozenMessage(message: unknown): boolean {
  return typeof message === "object" && message !== null && frozen.has(message);
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  if (value instanceof Uint8Array) return; // typed arrays cannot be frozen; bytes are not shared
  Object.freeze(value);
  for (const item of Object.values(value)) deepFreeze(item);
}
