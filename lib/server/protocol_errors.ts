/**
 * Errors the server answers itself, before any Connect handler runs (unknown method, native gRPC,
 * shutting down), written in the protocol the caller speaks so its client shows the code.
 *
 * @module
 */
import { Code } from "@connectrpc/connect";

const connectHttpStatus: Partial<Record<Code, number>> = {
  [Code.Unimplemented]: 501,
  [Code.Unavailable]: 503,
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
};

/**
 * The snake_case name Connect uses on the wire, such as "invalid_argument".
 *
 * @example
 * ```ts
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
 * ```ts
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
    { status: httpStatus ?? connectHttpStatus[code] ?? 500 },
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
 * the `invalid_argument` it is: the caller sent a malformed protobuf body. Only for calls whose
 * handler never ran, so a server fault is never hidden.
 *
 * @example
 * ```ts
 * const fixed = reclassifyDecodeError(res.status, res.headers, body);
 * ```
 */
export function reclassifyDecodeError(
  status: number,
  headers: Headers,
  body: Uint8Array | undefined,
): { status: number; body: Uint8Array | undefined } {
  if (!body || body.length > 4096) return { status, body };
  const text = new TextDecoder().decode(body);
  if (!/parse binary/.test(text)) return { status, body };
  const contentType = headers.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) {
    const fixed = text.replace(/grpc-status:\s*13/i, `grpc-status: ${Code.InvalidArgument}`);
    return { status, body: new TextEncoder().encode(fixed) };
  }
  if (status !== 200) {
    const fixed = text.replace('"code":"internal"', '"code":"invalid_argument"');
    return { status: 400, body: new TextEncoder().encode(fixed) };
  }
  return { status, body };
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
