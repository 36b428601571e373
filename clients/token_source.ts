/**
 * Where a client gets its bearer token: a fixed string, or a function asked before every call (so
 * a signed-in page can sign out or renew without rebuilding its clients).
 *
 * @module
 */
import type { Interceptor } from "@connectrpc/connect";

/** A token, or a function that returns the current one (undefined: call without a token). */
export type TokenSource =
  | string
  | (() => string | undefined | null | Promise<string | undefined | null>);

/**
 * An interceptor that sends `Authorization: Bearer <token>` when the source has a token.
 *
 * @example
 * ```ts
 * let token: string | undefined;
 * const transport = createConnectTransport({ baseUrl, interceptors: [bearerToken(() => token)] });
 * ```
 */
export function bearerToken(source: TokenSource): Interceptor {
  return (next) => async (req) => {
    const token = typeof source === "string" ? source : await source();
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return await next(req);
  };
}
