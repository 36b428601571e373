/**
 * Errors the server answers itself, before any Connect handler runs (unknown method, native gRPC,
 * shutting down), written in the protocol the caller speaks so its client shows the code.
 *
 * @module
 */
import { Code } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";

/**
 * The snake_case name Connect uses on the wire, such as "invalid_argument".
 *
 * @example
 * ```ts ignore
 * connectCodeString(Code.InvalidArgument); // "invalid_argument"
 * ```
 */
export function connectCodeString(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).slice(1);
}

/**
 * An error response in the protocol of the request: gRPC-web and gRPC get `grpc-status` headers
 * (a trailers-only response), everything else a Connect JSON error.
 *
 * @example
 * ```ts ignore
 * return protocolError(req, Code.Unimplemented, "no such method");
 * ```
 */
export function protocolError(
  req: Request,
  code: Code,
  message: string,
  httpStatus?: number,
): Response {
  const contentType = req.headers.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc")) {
    return new Response(null, {
      status: 200,
      headers: {
        "content-type": contentType.split(";")[0],
        "grpc-status": String(code),
        "grpc-message": encodeURIComponent(message),
      },
    });
  }
  return Response.json(
    { code: connectCodeString(code), message },
    { status: httpStatus ?? codeToHttpStatus(code) },
  );
}

const codeByName = new Map<string, string>(
  Object.values(Code).filter((v): v is Code => typeof v === "number").map((code) => [
    connectCodeString(code),
    Code[code],
  ]),
);

/**
 * The code name (`InvalidArgument`) of a finished response, read from what is on the wire:
 * a `grpc-status` header, a gRPC-web trailer frame, a Connect end-stream message or JSON error.
 *
 * @example
 * ```ts
 * codeFromWire(200, new Headers({ "grpc-status": "3" }), undefined); // "InvalidArgument"
 * ```
 */
export function codeFromWire(
  status: number,
  headers: Headers,
  lastChunk: Uint8Array | undefined,
): string {
  const grpcStatus = headers.get("grpc-status");
  if (grpcStatus !== null) return Code[Number(grpcStatus) as Code] ?? "Unknown";
  const contentType = headers.get("content-type") ?? "";
  const enveloped = lastChunk !== undefined && lastChunk.length >= 5;
  if (contentType.startsWith("application/grpc-web") && enveloped && (lastChunk[0] & 0x80)) {
    const text = new TextDecoder().decode(lastChunk.subarray(5));
    const match = /grpc-status:\s*(\d+)/i.exec(text);
    return match ? Code[Number(match[1]) as Code] ?? "Unknown" : "OK";
  }
  if (contentType.startsWith("application/connect+") && enveloped && (lastChunk[0] & 0x02)) {
    return jsonErrorCode(lastChunk.subarray(5), true) ?? "OK";
  }
  if (status !== 200) return (lastChunk && jsonErrorCode(lastChunk, false)) ?? "Unknown";
  return "OK";
}

/**
 * Rewrites a failure to decode a binary request, which connect-es reports as `internal`, as
 * the `invalid_argument` it is: the caller sent a malformed protobuf body. The adapter applies
 * it only to calls whose handler never ran, so a server fault is never hidden. Works on a Connect
 * unary JSON error, and on the last envelope of a gRPC-web (trailer frame) or Connect streaming
 * (end-stream message) body, rebuilding the envelope rather than editing bytes in place.
 *
 * @example
 * ```ts ignore
 * const fixed = reclassifyDecodeError(res.status, res.headers, body);
 * ```
 */
export function reclassifyDecodeError(
  status: number,
  headers: Headers,
  body: Uint8Array | undefined,
): { status: number; body: Uint8Array | undefined } {
  if (!body || body.length === 0) return { status, body };
  const contentType = headers.get("content-type") ?? "";
  const enveloped = contentType.startsWith("application/grpc-web") ||
    contentType.startsWith("application/connect+");
  if (!enveloped) {
    if (status === 200 || body.length > 4096) return { status, body };
    const text = new TextDecoder().decode(body);
    if (!DECODE_FAILURE.test(text)) return { status, body };
    const fixed = text.replace('"code":"internal"', '"code":"invalid_argument"');
    return { status: 400, body: new TextEncoder().encode(fixed) };
  }
  const last = lastEnvelope(body);
  if (!last || (last.flags & 0x82) === 0 || last.payload.length > 4096) return { status, body };
  const text = new TextDecoder().decode(last.payload);
  let replaced: string | undefined;
  if ((last.flags & 0x80) === 0x80) {
    const message = /grpc-message:\s*([^\r\n]*)/i.exec(text)?.[1] ?? "";
    if (/grpc-status:\s*13\b/.test(text) && DECODE_FAILURE.test(safeDecode(message))) {
      replaced = text.replace(/grpc-status:\s*13\b/i, `grpc-status: ${Code.InvalidArgument}`);
    }
  } else if ((last.flags & 0x02) === 0x02 && DECODE_FAILURE.test(text)) {
    replaced = text.replace('"code":"internal"', '"code":"invalid_argument"');
  }
  if (replaced === undefined) return { status, body };
  const payload = new TextEncoder().encode(replaced);
  const envelope = new Uint8Array(5 + payload.length);
  envelope[0] = last.flags;
  new DataView(envelope.buffer).setUint32(1, payload.length);
  envelope.set(payload, 5);
  const out = new Uint8Array(last.offset + envelope.length);
  out.set(body.subarray(0, last.offset));
  out.set(envelope, last.offset);
  return { status, body: out };
}

const DECODE_FAILURE = /parse binary/;

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The last complete envelope (flags, 4-byte length, payload) of a buffer of envelopes. */
function lastEnvelope(
  body: Uint8Array,
): { offset: number; flags: number; payload: Uint8Array } | undefined {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let offset = 0;
  let last: { offset: number; flags: number; payload: Uint8Array } | undefined;
  while (offset + 5 <= body.length) {
    const length = view.getUint32(offset + 1);
    if (offset + 5 + length > body.length) return undefined;
    last = { offset, flags: body[offset], payload: body.subarray(offset + 5, offset + 5 + length) };
    offset += 5 + length;
  }
  return offset === body.length ? last : undefined;
}

function jsonErrorCode(bytes: Uint8Array, endStream: boolean): string | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes));
    const code = endStream ? parsed?.error?.code : parsed?.code;
    return typeof code === "string" ? codeByName.get(code) ?? "Unknown" : undefined;
  } catch {
    return undefined;
  }
}
