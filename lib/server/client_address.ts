/**
 * Who a call comes from: the address of the connection, or, when that connection is a trusted
 * proxy (TRUSTED_PROXIES), the nearest address in `X-Forwarded-For` that is not a trusted proxy.
 * The header is read from the right: its left entries are whatever the client wrote.
 *
 * @module
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { TrustedProxies } from "../config/trusted_proxies.ts";
import { callRecordKey } from "./call_record.ts";

/**
 * The client's address for a call (`unknown` when the server did not record the connection).
 *
 * @example
 * ```ts ignore
 * const address = clientAddress(ctx, config.trustedProxies); // "203.0.113.7"
 * ```
 */
export function clientAddress(ctx: HandlerContext, proxies: TrustedProxies): string {
  const peer = ctx.values.get(callRecordKey)?.peer;
  if (peer === undefined) return "unknown";
  return resolveClientAddress(hostOf(peer), ctx.requestHeader.get("x-forwarded-for"), proxies);
}

/**
 * The pure rule behind {@link clientAddress}.
 *
 * @example
 * ```ts ignore
 * resolveClientAddress("10.0.0.2", "198.51.100.1, 203.0.113.7", proxies); // "203.0.113.7"
 * ```
 */
export function resolveClientAddress(
  peer: string,
  forwardedFor: string | null,
  proxies: TrustedProxies,
): string {
  if (!proxies.any || forwardedFor === null || !proxies.trusts(peer)) return peer;
  const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!proxies.trusts(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}

/** `127.0.0.1:5000` → `127.0.0.1`; `::1:5000` → `::1`. */
function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  return colon > 0 ? remote.slice(0, colon) : remote;
}
