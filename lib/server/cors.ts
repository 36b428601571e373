/**
 * CORS in front of everything a service port serves, so that a web page on another origin can
 * call the RPCs (Connect and gRPC-web) and read `/health` and `/metrics`.
 *
 * - A request without `Origin` (curl, services, ops tools) or from the port's own origin (a page
 *   behind the edge proxy) passes untouched.
 * - An allowed origin's preflight is answered with the methods and headers Connect and gRPC-web
 *   need (connect-es's `cors` lists, plus `authorization`); its responses expose `grpc-status`,
 *   `grpc-message` and the other headers a browser client must read.
 * - A disallowed origin gets `403` with no `Access-Control-*` header: the browser blocks the
 *   call and the handler never runs, so nothing is read or written on its behalf.
 * - `CORS_ORIGINS=*` allows every origin but never with credentials.
 *
 * @module
 */
import { cors as connectCors } from "@connectrpc/connect";
import type { CorsConfig } from "../config/cors_config.ts";
import type { Logger } from "../log/logger.ts";

/** A `Deno.serve` handler. */
export type ServeHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

/** Headers a browser may send: Connect's and gRPC-web's, the bearer token and an idempotency key. */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  ...connectCors.allowedHeaders,
  "Authorization",
  "Idempotency-Key",
];

/** Headers a browser client must be able to read: status, message, encodings, length. */
export const CORS_EXPOSED_HEADERS: readonly string[] = [
  ...connectCors.exposedHeaders,
  "Connect-Accept-Encoding",
  "Content-Length",
];

/** Methods a browser may use: Connect and gRPC-web's POST and Connect's GET (and GET /health). */
export const CORS_ALLOWED_METHODS: readonly string[] = [...connectCors.allowedMethods];

/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 7200;

/** What the CORS layer reports. */
export interface CorsOptions {
  /** Called when a request from a disallowed origin is refused. */
  onRefused?: (origin: string, req: Request) => void;
}

/**
 * Wraps a handler with the CORS policy.
 *
 * @example
 * ```ts ignore
 * const handler = withCors({ origins: ["http://localhost:8080"], anyOrigin: false }, (req) =>
 *   new Response("hello"));
 * Deno.serve({ port: 0 }, handler);
 * ```
 */
export function withCors(
  config: CorsConfig,
  handler: ServeHandler,
  options: CorsOptions = {},
): ServeHandler {
  const allowed = new Set(config.origins);
  const allowOrigin = (origin: string) => config.anyOrigin ? "*" : origin;
  const credentials = !config.anyOrigin;

  return async (req, info) => {
    const origin = req.headers.get("origin");
    if (origin === null || isSameOrigin(origin, req, config.trustForwardedHost)) {
      return await handler(req, info);
    }
    if (!config.anyOrigin && !allowed.has(origin)) {
      options.onRefused?.(origin, req);
      return new Response(
        `origin ${origin} may not call this service from a browser; an operator allows it by ` +
          "adding it to CORS_ORIGINS\n",
        { status: 403, headers: { "content-type": "text/plain; charset=utf-8", vary: "Origin" } },
      );
    }
    if (req.method === "OPTIONS" && req.headers.has("access-control-request-method")) {
      const headers = new Headers({
        "access-control-allow-origin": allowOrigin(origin),
        "access-control-allow-methods": CORS_ALLOWED_METHODS.join(", "),
        "access-control-allow-headers": CORS_ALLOWED_HEADERS.join(", "),
        "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      });
      if (credentials) headers.set("access-control-allow-credentials", "true");
      return new Response(null, { status: 204, headers });
    }
    const response = await handler(req, info);
    return withHeaders(response, (headers) => {
      headers.set("access-control-allow-origin", allowOrigin(origin));
      headers.set("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
      if (credentials) headers.set("access-control-allow-credentials", "true");
      headers.append("vary", "Origin");
    });
  };
}

/**
 * True when `origin` is the origin the request was sent to (the browser sends `Origin` on a
 * same-origin POST too): its host and port equal the `Host` header. Behind a proxy, the proxy
 * must pass the browser's `Host` on (nginx: `proxy_set_header Host $http_host`), or, with
 * `trustForwardedHost` (`CORS_TRUST_FORWARDED_HOST=true`), set `X-Forwarded-Host` to it (nginx:
 * `proxy_set_header X-Forwarded-Host $http_host`); its first value is then accepted too.
 *
 * @example
 * ```ts
 * isSameOrigin("http://localhost:8080", new Request("http://localhost:8080/x")); // true
 * ```
 */
export function isSameOrigin(origin: string, req: Request, trustForwardedHost = false): boolean {
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false; // "null" and other opaque origins are never the server's own
  }
  const host = req.headers.get("host") ?? new URL(req.url).host;
  if (originHost === host.toLowerCase()) return true;
  if (!trustForwardedHost) return false;
  // A browser cannot forge it on a cross-origin call without a preflight, which carries none.
  const forwarded = req.headers.get("x-forwarded-host")?.split(",")[0].trim().toLowerCase();
  return forwarded !== undefined && forwarded !== "" && originHost === forwarded;
}

/**
 * An `onRefused` that logs a warning the first time an origin is refused (so an operator sees
 * which origin to add to `CORS_ORIGINS`) and at debug level after that, so a page that keeps
 * calling cannot flood the log.
 *
 * @example
 * ```ts ignore
 * const handler = withCors(config.cors, serve, { onRefused: corsRefusalLog(logger) });
 * ```
 */
export function corsRefusalLog(logger: Logger): (origin: string, req: Request) => void {
  const warned = new Set<string>();
  return (origin, req) => {
    const fields = { origin, method: req.method, path: new URL(req.url).pathname };
    if (warned.has(origin) || warned.size >= 100) {
      logger.debug("refused a browser origin not in CORS_ORIGINS", fields);
      return;
    }
    warned.add(origin);
    logger.warn("refused a browser origin not in CORS_ORIGINS", fields);
  };
}

function withHeaders(response: Response, edit: (headers: Headers) => void): Response {
  try {
    edit(response.headers);
    return response;
  } catch {
    // Immutable headers (a response from fetch): copy them into a new response.
    const copy = new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers: new Headers(response.headers),
    });
    edit(copy.headers);
    return copy;
  }
}
