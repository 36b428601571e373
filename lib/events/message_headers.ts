/**
 * A NATS message's headers, read without throwing: nats.js decodes them when `headers` is first
 * read and throws on a malformed block (a header name with a space or a non-ASCII byte), which
 * would otherwise make an event fail on every delivery, forever.
 *
 * @module
 */
import type { MsgHdrs } from "@nats-io/transport-node";

/**
 * The message's headers, or undefined when it has none or they cannot be decoded.
 *
 * @example
 * ```ts ignore
 * const traceparent = safeHeaders(msg)?.get("traceparent");
 * ```
 */
export function safeHeaders(msg: { readonly headers?: MsgHdrs }): MsgHdrs | undefined {
  try {
    return msg.headers;
  } catch {
    return undefined;
  }
}
