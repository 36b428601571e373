/**
 * What the server knows about one RPC while it runs: its labels and, once it ends, its code.
 * The HTTP adapter creates it and the interceptors fill it in, so that metrics see every call,
 * including those that fail before a handler runs (malformed bodies, size limit, no token).
 *
 * @module
 */
import { createContextKey } from "@connectrpc/connect";

/** go-grpc-prometheus's grpc_type label. */
export type GrpcType = "unary" | "server_stream" | "client_stream" | "bidi_stream";

/** One RPC in progress. */
export interface CallRecord {
  service: string;
  method: string;
  type: GrpcType;
  /** The code name (`OK`, `InvalidArgument`, ...) once known. */
  code?: string;
  received: number;
  sent: number;
  /** The connection's remote end, `host:port` (read by {@link callRecordKey} users). */
  peer?: string;
}

/**
 * The context key under which the adapter hands the record to interceptors.
 *
 * @example
 * ```ts ignore
 * const record = req.contextValues.get(callRecordKey);
 * ```
 */
export const callRecordKey = createContextKey<CallRecord | undefined>(undefined, {
  description: "platform call record",
});

/**
 * Maps a connect-es method kind to the grpc_type label.
 *
 * @example
 * ```ts
 * grpcTypeOf("server_streaming"); // "server_stream"
 * ```
 */
export function grpcTypeOf(methodKind: string): GrpcType {
  switch (methodKind) {
    case "server_streaming":
      return "server_stream";
    case "client_streaming":
      return "client_stream";
    case "bidi_streaming":
      return "bidi_stream";
    default:
      return "unary";
  }
}
