/**
 * The HTTP/2 connections `Deno.serve` cannot answer: native gRPC needs HTTP/2 trailers, which
 * node:http2 sends (`respond(..., { waitForTrailers: true })`, then `sendTrailers`). A
 * node:http2 server takes such connections (h2c whose first request is gRPC, and every h2
 * connection over TLS) and serves each stream:
 *
 * - native gRPC (`application/grpc`, `+proto`, `+json`) through connect-es's universal handlers,
 *   the same handlers, interceptors, auth gate, size limit and deadlines as the other protocols,
 *   counted in the same gRPC metrics;
 * - anything else (Connect, gRPC-web, `/readyz`, ...) bridged to the server's fetch handler, so
 *   it answers exactly as on `Deno.serve`.
 *
 * A reset stream or a broken connection ends that stream or session, never the process.
 *
 * @module
 */
import http2 from "node:http2";
import { Readable } from "node:stream";
import { Code, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { CallMetrics } from "./call_metrics.ts";
import { type CallRecord, callRecordKey, grpcTypeOf } from "./call_record.ts";
import { connDuplex } from "./conn_duplex.ts";
import { reclassifyDecodeErrorTrailer } from "./protocol_errors.ts";
import type { BodyReader } from "./request_body.ts";

/** What the HTTP/2 server needs from the service server. */
export interface NativeGrpcOptions {
  /** connect-es's universal handlers (the router registers native gRPC on them). */
  handlers: readonly UniversalHandler[];
  /** The server's fetch handler, for every request that is not native gRPC. */
  fetch: (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response>;
  calls: CallMetrics;
  bodies: BodyReader;
  isDraining: () => boolean;
  /** Wraps each native gRPC call, so the server counts it in flight while it runs. */
  inFlight: <T>(call: () => Promise<T>) => Promise<T>;
  /** "http" or "https", for the URLs handed to handlers. */
  scheme: "http" | "https";
}

/** The HTTP/2 side of a port. */
export interface NativeGrpcServer {
  /** Serves a connection Deno accepted, from its first byte. */
  serve(conn: Deno.Conn): void;
  /** Sends GOAWAY on every connection: calls in progress finish, new ones go elsewhere. */
  drain(): void;
  /** Closes whatever is still open. */
  close(): void;
  /** Open connections. */
  readonly connections: number;
}

/** HTTP/2 headers that HTTP/1.1 responses may carry and HTTP/2 forbids. */
const CONNECTION_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Creates the HTTP/2 server for one port.
 *
 * @example
 * ```ts
 * const h2 = createNativeGrpcServer({ handlers: router.handlers, fetch: serve, ... });
 * h2.serve(conn); // a connection whose first request is native gRPC
 * ```
 */
export function createNativeGrpcServer(options: NativeGrpcOptions): NativeGrpcServer {
  const handlers = new Map(options.handlers.map((h) => [h.requestPath, h]));
  const serviceNames = [...new Set(options.handlers.map((h) => h.service.typeName))];
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer({ maxSessionMemory: 64 });
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {});
    if (options.isDraining()) session.close();
  });
  server.on("sessionError", () => {});
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", () => {});
    const contentType = String(headers["content-type"] ?? "");
    const native = contentType.startsWith("application/grpc") &&
      !contentType.startsWith("application/grpc-web");
    const work = native ? serveGrpc(stream, headers) : bridge(stream, headers);
    work.catch(() => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });

  const remoteOf = (stream: http2.ServerHttp2Stream) => {
    const socket = stream.session?.socket;
    return { hostname: socket?.remoteAddress ?? "", port: socket?.remotePort ?? 0 };
  };

  const urlOf = (headers: http2.IncomingHttpHeaders) =>
    `${options.scheme}://${headers[":authority"] ?? "localhost"}${headers[":path"] ?? "/"}`;

  const requestHeaders = (headers: http2.IncomingHttpHeaders) => {
    const out = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(":") || value === undefined) continue;
      if (Array.isArray(value)) value.forEach((v) => out.append(name, v));
      else out.set(name, String(value));
    }
    return out;
  };

  const aborted = (stream: http2.ServerHttp2Stream) => {
    const controller = new AbortController();
    stream.on("close", () => {
      if (!stream.writableFinished) controller.abort();
    });
    return controller.signal;
  };

  const trailersOnly = (stream: http2.ServerHttp2Stream, code: Code, message: string) => {
    if (stream.destroyed) return;
    stream.respond({
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(code),
      "grpc-message": grpcMessageEncode(message),
    }, { endStream: true });
  };

  function serveGrpc(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): Promise<void> {
    const path = String(headers[":path"] ?? "").split("?")[0];
    const handler = handlers.get(path);
    if (!handler) {
      trailersOnly(
        stream,
        Code.Unimplemented,
        `unknown method ${path}; this server serves ${serviceNames.join(", ")}`,
      );
      return Promise.resolve();
    }
    if (options.isDraining()) {
      trailersOnly(stream, Code.Unavailable, "the server is shutting down; retry on another one");
      return Promise.resolve();
    }
    return options.inFlight(() => grpcCall(handler, stream, headers));
  }

  async function grpcCall(
    handler: UniversalHandler,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): Promise<void> {
    const record: CallRecord = {
      service: handler.service.typeName,
      method: handler.method.name,
      type: grpcTypeOf(handler.method.methodKind),
      received: 0,
      sent: 0,
    };
    const remote = remoteOf(stream);
    const tracker = options.calls.start(record, `${remote.hostname}:${remote.port}`);
    const signal = aborted(stream);
    const body = new Request(urlOf(headers), {
      method: "POST",
      body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit);
    try {
      const uRes = await handler({
        httpVersion: "2",
        method: String(headers[":method"] ?? "POST"),
        url: urlOf(headers),
        header: requestHeaders(headers),
        body: options.bodies.chunks(body),
        signal,
        contextValues: createContextValues().set(callRecordKey, record),
      });
      const responseHeaders: http2.OutgoingHttpHeaders = { ":status": uRes.status };
      uRes.header?.forEach((value, name) => {
        if (!CONNECTION_HEADERS.has(name)) responseHeaders[name] = value;
      });
      if (stream.destroyed) throw new Error("stream closed");
      const trailer = uRes.trailer ?? new Headers();
      stream.respond(responseHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => {
        if (record.code === undefined) reclassifyDecodeErrorTrailer(trailer);
        const out: Record<string, string> = {};
        trailer.forEach((value, name) => out[name] = value);
        // connect-es escapes grpc-message as a URI component; gRPC escapes only what is not
        // printable ASCII (and "%"), and clients that decode with decodeURI (grpc-js) would
        // show "%2F" for "/" otherwise.
        if (out["grpc-message"] !== undefined) {
          out["grpc-message"] = grpcMessageEncode(safeDecode(out["grpc-message"]));
        }
        tracker.finish(codeName(trailer.get("grpc-status")));
        try {
          stream.sendTrailers(out);
        } catch {
          // the stream was reset meanwhile
        }
      });
      for await (const chunk of uRes.body ?? []) {
        if (stream.destroyed) break;
        if (!stream.write(chunk)) await drained(stream);
      }
      if (!stream.destroyed) stream.end();
      await new Promise<void>((resolve) => {
        if (stream.closed) resolve();
        else stream.once("close", resolve);
      });
    } finally {
      tracker.finish(signal.aborted ? "Canceled" : "Unknown");
    }
  }

  async function bridge(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): Promise<void> {
    const method = String(headers[":method"] ?? "GET");
    const hasBody = method !== "GET" && method !== "HEAD";
    const req = new Request(urlOf(headers), {
      method,
      headers: requestHeaders(headers),
      body: hasBody ? Readable.toWeb(stream) as ReadableStream<Uint8Array> : undefined,
      signal: aborted(stream),
      duplex: "half",
    } as RequestInit);
    const remote = remoteOf(stream);
    let completed!: () => void;
    const info = {
      remoteAddr: { transport: "tcp" as const, ...remote },
      completed: new Promise<void>((resolve) => completed = resolve),
    };
    try {
      const response = await options.fetch(req, info);
      if (stream.destroyed) return;
      const responseHeaders: http2.OutgoingHttpHeaders = { ":status": response.status };
      response.headers.forEach((value, name) => {
        if (!CONNECTION_HEADERS.has(name)) responseHeaders[name] = value;
      });
      if (!response.body || method === "HEAD") {
        stream.respond(responseHeaders, { endStream: true });
        await response.body?.cancel();
        return;
      }
      stream.respond(responseHeaders);
      for await (const chunk of response.body) {
        if (stream.destroyed) break;
        if (!stream.write(chunk)) await drained(stream);
      }
      if (!stream.destroyed) stream.end();
    } finally {
      completed();
    }
  }

  return {
    serve(conn) {
      const socket = connDuplex(conn);
      socket.on("error", () => socket.destroy());
      server.emit("connection", socket);
    },
    drain() {
      for (const session of sessions) session.close();
    },
    close() {
      for (const session of sessions) session.destroy();
      server.close();
    },
    get connections() {
      return sessions.size;
    },
  };
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

/** gRPC's percent-encoding of grpc-message: bytes outside printable ASCII, and "%". */
function grpcMessageEncode(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function codeName(status: string | null): string {
  if (status === null) return "Unknown";
  return Code[Number(status) as Code] ?? "Unknown";
}
