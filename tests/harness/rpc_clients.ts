/**
 * Real RPC clients for black-box tests, built with `@platform/client` (the module third parties
 * and the web app use): Connect and gRPC-web, over HTTP/1.1 or h2c (HTTP/2 with prior
 * knowledge), with an optional bearer token.
 *
 * @module
 */
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { platformClient } from "@platform/client";

/** Which wire protocol and HTTP version a client uses. */
export interface ClientFlavour {
  protocol: "connect" | "grpcweb";
  http: "1.1" | "h2c";
  /** Binary protobuf instead of JSON. */
  binary?: boolean;
}

/** Every combination the servers must serve. */
export const FLAVOURS: ClientFlavour[] = [
  { protocol: "connect", http: "1.1" },
  { protocol: "connect", http: "1.1", binary: true },
  { protocol: "grpcweb", http: "1.1", binary: true },
  { protocol: "grpcweb", http: "1.1" },
  { protocol: "connect", http: "h2c" },
  { protocol: "grpcweb", http: "h2c", binary: true },
];

let h2c: Deno.HttpClient | undefined;

/**
 * A typed client for `service` at `baseUrl`.
 *
 * @example
 * ```ts
 * const users = rpcClient(UserService, server.url, { protocol: "grpcweb", http: "h2c" }, token);
 * await users.getUser({ userId });
 * ```
 */
export function rpcClient<T extends DescService>(
  service: T,
  baseUrl: string,
  flavour: ClientFlavour = { protocol: "connect", http: "1.1" },
  token?: string,
): Client<T> {
  return platformClient(service, baseUrl, {
    protocol: flavour.protocol,
    binary: flavour.binary ?? false,
    token,
    fetch: flavour.http === "h2c"
      ? (input, init) => {
        h2c ??= Deno.createHttpClient({ http2: true, http1: false });
        return fetch(input, { ...init, client: h2c });
      }
      : undefined,
  });
}

/**
 * Posts Connect JSON with plain fetch, as `curl` would, and returns status and parsed body.
 *
 * @example
 * ```ts
 * const { status, body } = await postJson(url, "platform.users.v1.UserService/Login", { email, password });
 * ```
 */
export async function postJson(
  baseUrl: string,
  procedure: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}
