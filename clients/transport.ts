/**
 * One transport for every platform client: Connect (default) or gRPC-web, JSON or binary, with
 * a bearer token from a {@link TokenSource} and an optional default deadline. Works in browsers
 * and in Deno (pass `fetch` to choose the HTTP client, such as an h2c one).
 *
 * @module
 */
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { idempotencyKeys, type IdempotencyOptions } from "./idempotency.ts";
import { bearerToken, type TokenSource } from "./token_source.ts";

/** How a client talks to a service. */
export interface PlatformClientOptions {
  /** The bearer token, or a function asked before each call. */
  token?: TokenSource;
  /** "connect" (default) or "grpcweb"; both are served on every port. */
  protocol?: "connect" | "grpcweb";
  /** Binary protobuf instead of JSON (default false: readable in a browser's network tab). */
  binary?: boolean;
  /** A deadline for every call that sets none, in milliseconds. */
  timeoutMs?: number;
  /** The fetch to use (default: the global one, looked up at call time). */
  fetch?: typeof globalThis.fetch;
  /** More interceptors, run after the token is set. */
  interceptors?: Interceptor[];
  /**
   * Idempotency keys: every call that creates something (CreateTask) is sent with a key made
   * once per call and retried with it when its outcome is open (idempotency.ts). Default
   * `{ retries: 2, backoffMs: 200 }`.
   */
  idempotency?: IdempotencyOptions;
}

/**
 * Builds the transport for a service at `baseUrl` (such as `http://localhost:50051`, or `""`
 * for the page's own origin behind the edge proxy).
 *
 * @example
 * ```ts
 * const transport = createPlatformTransport("http://localhost:50051", { token: "ey..." });
 * ```
 */
export function createPlatformTransport(
  baseUrl: string,
  options: PlatformClientOptions = {},
): Transport {
  const interceptors = [
    idempotencyKeys(options.idempotency),
    ...(options.token === undefined ? [] : [bearerToken(options.token)]),
    ...(options.interceptors ?? []),
  ];
  const fetchFn: typeof globalThis.fetch = options.fetch ??
    ((input, init) => globalThis.fetch(input, init));
  const settings = {
    baseUrl: baseUrl.replace(/\/+$/, ""),
    useBinaryFormat: options.binary ?? false,
    interceptors,
    fetch: fetchFn,
    defaultTimeoutMs: options.timeoutMs,
  };
  return options.protocol === "grpcweb"
    ? createGrpcWebTransport(settings)
    : createConnectTransport(settings);
}

/**
 * A typed client for any service the platform serves (the per-service functions in `mod.ts`
 * are shorthands for this).
 *
 * @example
 * ```ts
 * import { Health } from "@platform/proto/grpc/health/v1";
 * const health = platformClient(Health, "http://localhost:50051");
 * await health.check({});
 * ```
 */
export function platformClient<T extends DescService>(
  service: T,
  baseUrl: string,
  options: PlatformClientOptions = {},
): Client<T> {
  return createClient(service, createPlatformTransport(baseUrl, options));
}
