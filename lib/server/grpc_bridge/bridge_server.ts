/**
 * Native gRPC in, gRPC-web out: a node:http2 server (which can send HTTP/2 trailers) that passes
 * each call to the service's own port as gRPC-web over h2c, and turns the answer's trailer frame
 * back into HTTP/2 trailers. The service's handlers, auth gate, interceptors, size limit,
 * `grpc-timeout` and metrics apply unchanged. Runs in a process of its own (`bridge_main.ts`):
 * Deno 2.9.6's node:http2 server aborts its process under concurrent load (an nghttp2 assertion
 * or `free(): invalid pointer`), and that must not be the service's process.
 *
 * @module
 */
import http2 from "node:http2";
import { Readable } from "node:stream";
import {
  grpcMessageEncode,
  GrpcWebBodyReader,
  toGrpcContentType,
  toGrpcWebContentType,
} from "./grpc_web_frames.ts";
import { BRIDGE_PEER_HEADER } from "./peer_header.ts";

/** Request headers that are HTTP/2 or gRPC framing, not metadata to pass on. */
const NOT_FORWARDED = new Set([
  BRIDGE_PEER_HEADER,
  "content-type",
  "te",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "host",
]);
const NOT_RETURNED = new Set([
  "content-type",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "date",
]);

/** gRPC codes for HTTP statuses a gRPC-web answer may carry instead of grpc-status. */
function codeOfHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/**
 * Starts the bridge on a loopback port; resolves with the port and a graceful stop (GOAWAY to
 * every client: calls in progress finish).
 *
 * @example
 * ```ts ignore
 * const bridge = await startGrpcBridge("http://127.0.0.1:50051");
 * await bridge.drain();
 * ```
 */
export function startGrpcBridge(
  upstream: string,
  secret = "",
): Promise<{ port: number; drain(): Promise<void> }> {
  /** Names the relayed connection a stream came on, for the service's client address. */
  const tagPeer = (stream: http2.ServerHttp2Stream, forwarded: Headers) => {
    const port = stream.session?.socket?.remotePort;
    if (secret !== "" && port) forwarded.set(BRIDGE_PEER_HEADER, `${secret} ${port}`);
  };
  // Plaintext: h2c, which the port gives Deno's server (no `te: trailers`), full duplex for
  // bidi streams. TLS: HTTP/1.1 (ALPN h2 would come back here).
  const tls = upstream.startsWith("https:");
  const h2c = Deno.createHttpClient({ http2: !tls, http1: tls });
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {});
  });
  server.on("sessionError", () => {});
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", () => {});
    const contentType = String(headers["content-type"] ?? "");
    if (
      !contentType.startsWith("application/grpc") || contentType.startsWith("application/grpc-web")
    ) {
      // Connect, gRPC-web, /readyz over TLS h2: passed through as they are.
      passThrough(stream, headers).catch(() => {
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      });
      return;
    }
    relay(stream, headers).catch(() => {
      if (!stream.destroyed && !stream.headersSent) {
        trailersOnly(stream, 14, "the service could not be reached; retry");
      } else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });

  async function relay(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
    const contentType = String(headers["content-type"] ?? "application/grpc");
    const forwarded = new Headers({ "content-type": toGrpcWebContentType(contentType) });
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(":") || NOT_FORWARDED.has(name) || value === undefined) continue;
      forwarded.set(name, Array.isArray(value) ? value.join(", ") : String(value));
    }
    tagPeer(stream, forwarded);
    const cancel = new AbortController();
    stream.on("close", () => {
      if (!stream.writableFinished) cancel.abort();
    });
    const res = await fetch(`${upstream}${headers[":path"] ?? "/"}`, {
      method: "POST",
      headers: forwarded,
      body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
      signal: cancel.signal,
      client: h2c,
      duplex: "half",
    } as RequestInit);
    if (stream.destroyed) return void res.body?.cancel();
    const status = res.headers.get("grpc-status");
    if (res.status !== 200 || status !== null && !res.body) {
      await res.body?.cancel();
      return trailersOnly(
        stream,
        status !== null ? Number(status) : codeOfHttpStatus(res.status),
        decode(res.headers.get("grpc-message") ?? `HTTP ${res.status}`),
      );
    }
    const responseHeaders: http2.OutgoingHttpHeaders = {
      ":status": 200,
      "content-type": toGrpcContentType(res.headers.get("content-type") ?? ""),
    };
    res.headers.forEach((value, name) => {
      if (!NOT_RETURNED.has(name) && !name.startsWith("grpc-")) responseHeaders[name] = value;
    });
    const frames = new GrpcWebBodyReader();
    // A trailers-only gRPC-web answer has grpc-status in its headers and an empty body.
    const headerTrailers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (name.startsWith("grpc-")) headerTrailers[name] = value;
    });
    stream.respond(responseHeaders, { waitForTrailers: true });
    stream.on("wantTrailers", () => {
      const trailers = frames.trailers ??
        (Object.keys(headerTrailers).length
          ? headerTrailers
          : { "grpc-status": "13", "grpc-message": "the service's answer ended without a status" });
      if (trailers["grpc-message"] !== undefined) {
        trailers["grpc-message"] = grpcMessageEncode(decode(trailers["grpc-message"]));
      }
      try {
        stream.sendTrailers(trailers);
      } catch {
        // reset meanwhile
      }
    });
    for await (const chunk of res.body ?? []) {
      for (const message of frames.push(chunk)) {
        if (stream.destroyed) break;
        if (!stream.write(message)) await drained(stream);
      }
      if (stream.destroyed) break;
    }
    if (!stream.destroyed) stream.end();
  }

  async function passThrough(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ) {
    const method = String(headers[":method"] ?? "GET");
    const forwarded = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(":") || NOT_FORWARDED.has(name) && name !== "content-type") continue;
      if (value !== undefined) {
        forwarded.set(name, Array.isArray(value) ? value.join(", ") : String(value));
      }
    }
    if (headers[":authority"]) forwarded.set("x-forwarded-host", String(headers[":authority"]));
    tagPeer(stream, forwarded);
    const cancel = new AbortController();
    stream.on("close", () => {
      if (!stream.writableFinished) cancel.abort();
    });
    const hasBody = method !== "GET" && method !== "HEAD";
    const res = await fetch(`${upstream}${headers[":path"] ?? "/"}`, {
      method,
      headers: forwarded,
      body: hasBody ? Readable.toWeb(stream) as ReadableStream<Uint8Array> : undefined,
      signal: cancel.signal,
      client: h2c,
      duplex: "half",
    } as RequestInit);
    if (stream.destroyed) return void res.body?.cancel();
    const responseHeaders: http2.OutgoingHttpHeaders = { ":status": res.status };
    res.headers.forEach((value, name) => {
      if (!NOT_RETURNED.has(name) || name === "content-type") responseHeaders[name] = value;
    });
    if (!res.body) return void stream.respond(responseHeaders, { endStream: true });
    stream.respond(responseHeaders);
    for await (const chunk of res.body) {
      if (stream.destroyed) break;
      if (!stream.write(chunk)) await drained(stream);
    }
    if (!stream.destroyed) stream.end();
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as { port: number }).port,
        drain: () => {
          server.close();
          for (const session of sessions) session.close();
          return new Promise<void>((done) => {
            const check = setInterval(() => {
              if (sessions.size > 0) return;
              clearInterval(check);
              done();
            }, 20);
          });
        },
      }));
  });
}

function trailersOnly(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed) return;
  stream.respond({
    ":status": 200,
    "content-type": "application/grpc",
    "grpc-status": String(code),
    "grpc-message": grpcMessageEncode(message),
  }, { endStream: true });
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function drained(stream: http2.ServerHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}
