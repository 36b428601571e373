/**
 * The bytes a unary call answers with, written exactly as connect-es writes them: a Connect
 * unary body or JSON error, and gRPC-web message and trailer envelopes.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/**
 * Any thrown value as the ConnectError connect-es would answer with.
 *
 * @example
 * ```ts
 * asConnectError(new Error("boom")).code; // Code.Internal
 * ```
 */
export function asConnectError(error: unknown): ConnectError {
  return error instanceof ConnectError
    ? error
    : new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/**
 * A Connect unary error: the JSON body, with the error's metadata merged into the headers.
 *
 * @example
 * ```ts ignore
 * const body = connectErrorBody(error, headers, undefined);
 * ```
 */
export function connectErrorBody(
  error: ConnectError,
  headers: Headers,
  jsonOptions: Parameters<typeof errorToJsonBytes>[1],
): Uint8Array {
  if (!error.isWireError) mergeNonProtocolHeaders(headers, error.metadata);
  return errorToJsonBytes(error, jsonOptions);
}

/** The trailer envelope of a successful gRPC-web call with no trailers of its own. */
const OK_TRAILER: Uint8Array = envelope(0x80, new TextEncoder().encode("grpc-status: 0\r\n"));

/**
 * A gRPC-web response body: the message envelope (if any) and the trailer envelope.
 *
 * @example
 * ```ts ignore
 * const body = grpcWebBody(messageBytes, undefined, undefined);
 * ```
 */
export function grpcWebBody(
  message: Uint8Array | undefined,
  trailer: Headers | undefined,
  error: ConnectError | undefined,
): Uint8Array {
  let trailerEnvelope = OK_TRAILER;
  if (trailer !== undefined || error !== undefined) {
    const headers = trailer ?? new Headers({ "grpc-status": "0" });
    if (error) setTrailerStatus(headers, error);
    trailerEnvelope = envelope(0x80, trailerSerialize(headers));
  }
  if (message === undefined) return trailerEnvelope;
  const out = new Uint8Array(5 + message.length + trailerEnvelope.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  out.set(trailerEnvelope, 5 + message.length);
  return out;
}

/**
 * One envelope: flags, 4-byte big-endian length, payload.
 *
 * @example
 * ```ts
 * envelope(0x80, new TextEncoder().encode("grpc-status: 0\r\n"));
 * ```
 */
export function envelope(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}
