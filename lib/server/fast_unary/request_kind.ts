/**
 * Which unary requests the fast path serves: a POST with a body of known length within the size
 * limit, Connect unary (`application/json`, `application/proto`) or gRPC-web
 * (`application/grpc-web[+proto|+json]`), no request compression, no gRPC-web response
 * compression asked for. Everything else (GET, compression, streams, chunked bodies, over-size
 * bodies, unusual content types) goes to connect-es unchanged.
 *
 * @module
 */
import { parseContentType as parseConnectType } from "@connectrpc/connect/protocol-connect";
import { parseContentType as parseGrpcWebType } from "@connectrpc/connect/protocol-grpc-web";

/** The protocol and codec of a request the fast path takes. */
export interface RequestKind {
  protocol: "connect" | "grpc-web";
  binary: boolean;
  /** The response content type on success. */
  contentType: string;
}

const kinds = new Map<string, RequestKind | null>();
const MAX_CACHED_KINDS = 256;

/**
 * The kind of a content type, or undefined when the fast path does not serve it.
 *
 * @example
 * ```ts
 * requestKindOf("application/json"); // { protocol: "connect", binary: false, ... }
 * requestKindOf("application/connect+json"); // undefined (a stream)
 * ```
 */
export function requestKindOf(contentType: string): RequestKind | undefined {
  const known = kinds.get(contentType);
  if (known !== undefined) return known ?? undefined;
  const kind = classify(contentType);
  if (kinds.size < MAX_CACHED_KINDS) kinds.set(contentType, kind);
  return kind ?? undefined;
}

function classify(contentType: string): RequestKind | null {
  const connect = parseConnectType(contentType);
  if (connect && !connect.stream) {
    return {
      protocol: "connect",
      binary: connect.binary,
      contentType: connect.binary ? "application/proto" : "application/json",
    };
  }
  const grpcWeb = parseGrpcWebType(contentType);
  if (grpcWeb && !grpcWeb.text) {
    return {
      protocol: "grpc-web",
      binary: grpcWeb.binary,
      contentType: grpcWeb.binary ? "application/grpc-web+proto" : "application/grpc-web+json",
    };
  }
  return null;
}

/**
 * The declared body length when the fast path can read the body at once: a content-length of at
 * most `maxBytes`. Undefined for a chunked or over-size body (connect-es streams and bounds it).
 *
 * @example
 * ```ts ignore
 * declaredLength(req.headers, 4 << 20); // 42
 * ```
 */
export function declaredLength(headers: Headers, maxBytes: number): number | undefined {
  const value = headers.get("content-length");
  if (value === null) return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) && length >= 0 && length <= maxBytes ? length : undefined;
}
