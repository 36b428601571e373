/**
 * gRPC-web bodies as native gRPC needs them: the message envelopes pass through unchanged, the
 * trailer frame (flag 0x80, `name: value` lines) becomes HTTP/2 trailers. Pure.
 *
 * @module
 */

/** Splits a gRPC-web body, chunk by chunk, into message bytes and the trailers. */
export class GrpcWebBodyReader {
  private buffer = new Uint8Array(0);
  /** The trailers, once the trailer frame has been read. */
  trailers: Record<string, string> | undefined;

  /** Takes a chunk; returns the complete message envelopes it finished, as they were sent. */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset + 5 <= joined.length) {
      const length = new DataView(joined.buffer, joined.byteOffset + offset).getUint32(1);
      const end = offset + 5 + length;
      if (end > joined.length) break;
      if (joined[offset] & 0x80) {
        this.trailers = parseTrailerBlock(joined.subarray(offset + 5, end));
      } else {
        out.push(joined.slice(offset, end));
      }
      offset = end;
    }
    this.buffer = joined.slice(offset);
    return out;
  }
}

/**
 * The `name: value\r\n` lines of a gRPC-web trailer frame, names lower-cased.
 *
 * @example
 * ```ts
 * parseTrailerBlock(new TextEncoder().encode("grpc-status: 0\r\n")); // { "grpc-status": "0" }
 * ```
 */
export function parseTrailerBlock(bytes: Uint8Array): Record<string, string> {
  const trailers: Record<string, string> = {};
  for (const line of new TextDecoder().decode(bytes).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return trailers;
}

/**
 * gRPC's percent-encoding of grpc-message: bytes outside printable ASCII, and "%". Clients that
 * decode with `decodeURI` (grpc-js) show connect-es's URI-component escapes ("%2F") otherwise.
 *
 * @example
 * ```ts
 * grpcMessageEncode("user_id: bad"); // "user_id: bad"
 * ```
 */
export function grpcMessageEncode(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The gRPC content type's gRPC-web counterpart and back. */
export function toGrpcWebContentType(contentType: string): string {
  return contentType.endsWith("+json") ? "application/grpc-web+json" : "application/grpc-web+proto";
}

/** The gRPC-web content type's native counterpart. */
export function toGrpcContentType(contentType: string): string {
  return contentType.startsWith("application/grpc-web+json")
    ? "application/grpc+json"
    : "application/grpc+proto";
}
