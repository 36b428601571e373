/**
 * The one place where Connect's universal handlers meet `Deno.serve`. It reads a unary body at
 * once and answers a unary call with one buffer (about twice the throughput of the stock stream
 * adapters here), streams everything else, and records the gRPC server metrics of every call,
 * including those that fail before a handler runs.
 *
 * @module
 */
import { Code, type ConnectRouter, createContextValues } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { Metrics } from "../metrics/registry.ts";
import { type CallRecord, callRecordKey, grpcTypeOf } from "./call_record.ts";
import { codeFromWire, protocolError, reclassifyDecodeError } from "./protocol_errors.ts";

/** What the adapter needs besides the router. */
export interface RpcAdapterOptions {
  metrics: Metrics;
  maxMessageBytes: number;
  isDraining: () => boolean;
  /** Procedures callable without a token ("package.Service/Method"). */
  isPublic: (procedure: string) => boolean;
}

/** A fetch-style handler for RPC paths; undefined when the path is not an RPC of this server. */
export type RpcHandler = (
  req: Request,
  remote: string,
) => Promise<Response> | undefined;

/**
 * Builds the RPC handler for a router.
 *
 * @example
 * ```ts
 * const rpc = createRpcHandler(router, { metrics, maxMessageBytes: 4 << 20, isDraining });
 * Deno.serve((req, info) => rpc(req, `${info.remoteAddr.hostname}:${info.remoteAddr.port}`) ?? notFound());
 * ```
 */
export function createRpcHandler(router: ConnectRouter, options: RpcAdapterOptions): RpcHandler {
  const handlers = new Map<string, UniversalHandler>(
    router.handlers.map((handler) => [handler.requestPath, handler]),
  );
  const serviceNames = [...new Set(router.handlers.map((h) => h.service.typeName))];
  const connections = new Map<string, number>();
  const { grpc } = options.metrics;

  const enter = (remote: string) => {
    connections.set(remote, (connections.get(remote) ?? 0) + 1);
    grpc.activeConnections.set(connections.size);
    grpc.inFlight.inc();
  };
  const leave = (remote: string) => {
    const left = (connections.get(remote) ?? 1) - 1;
    if (left <= 0) connections.delete(remote);
    else connections.set(remote, left);
    grpc.activeConnections.set(connections.size);
    grpc.inFlight.dec();
  };

  return (req, remote) => {
    const path = new URL(req.url).pathname;
    const handler = handlers.get(path);
    const contentType = req.headers.get("content-type") ?? "";
    if (
      contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web")
    ) {
      return Promise.resolve(protocolError(
        req,
        Code.Unimplemented,
        "native gRPC (HTTP/2 trailers) is not served here: use gRPC-web " +
          "(application/grpc-web+proto) or the Connect protocol on this same port, for example " +
          "`buf curl --protocol grpcweb` or `buf curl` (Connect)",
      ));
    }
    if (!handler) {
      if (!/^\/[\w.]+\/\w+$/.test(path)) return undefined;
      return Promise.resolve(protocolError(
        req,
        Code.Unimplemented,
        `unknown method ${path}; this server serves ${serviceNames.join(", ")}`,
      ));
    }
    if (req.method === "POST" && !handler.supportedContentType(contentType)) {
      return Promise.resolve(protocolError(
        req,
        Code.InvalidArgument,
        `content-type ${JSON.stringify(contentType)} is not supported; send application/json or ` +
          "application/proto (Connect), or application/grpc-web+proto or +json (gRPC-web)",
        415,
      ));
    }
    if (options.isDraining()) {
      return Promise.resolve(
        protocolError(req, Code.Unavailable, "the server is shutting down; retry on another one"),
      );
    }
    return call(handler, req, remote);
  };

  async function call(handler: UniversalHandler, req: Request, remote: string) {
    const record: CallRecord = {
      service: handler.service.typeName,
      method: handler.method.name,
      type: grpcTypeOf(handler.method.methodKind),
      received: 0,
      sent: 0,
    };
    const labels = {
      grpc_type: record.type,
      grpc_service: record.service,
      grpc_method: record.method,
    };
    const started = performance.now();
    grpc.started.inc(labels);
    enter(remote);
    let finished = false;
    const finish = (status: number, headers: Headers, lastChunk: Uint8Array | undefined) => {
      if (finished) return;
      finished = true;
      const code = record.code ?? codeFromWire(status, headers, lastChunk);
      grpc.handled.inc({ ...labels, grpc_code: code });
      grpc.handling.observe(labels, (performance.now() - started) / 1000);
      if (record.received > 0) grpc.received.inc(labels, record.received);
      if (record.sent > 0) grpc.sent.inc(labels, record.sent);
      leave(remote);
    };
    try {
      const uRes = await handler({
        httpVersion: "",
        method: req.method,
        url: req.url,
        header: req.headers,
        // Read a unary body at once only when the gate will let it through: a call with no
        // token to a private method is refused before its body is read.
        body: await requestBody(
          req,
          record.type === "unary" &&
            (req.headers.has("authorization") ||
              options.isPublic(`${record.service}/${record.method}`)),
          options.maxMessageBytes,
        ),
        signal: req.signal,
        contextValues: createContextValues().set(callRecordKey, record),
      });
      const headers = uRes.header ?? new Headers();
      if (record.type === "unary" || record.type === "client_stream") {
        let status = uRes.status;
        let body = await collect(uRes);
        if (record.code === undefined) {
          ({ status, body } = reclassifyDecodeError(status, headers, body));
        }
        finish(status, headers, body);
        if (body && headers.has("content-length")) {
          headers.set("content-length", String(body.length));
        }
        return new Response(body as Uint8Array<ArrayBuffer> | undefined, { status, headers });
      }
      // A stream whose handler never ran failed before it: a decode error ends it.
      const rewrite = (chunk: Uint8Array) =>
        record.code === undefined
          ? reclassifyDecodeError(200, headers, chunk).body ?? chunk
          : chunk;
      return new Response(streamBody(uRes, (last) => finish(uRes.status, headers, last), rewrite), {
        status: uRes.status,
        headers,
      });
    } catch (error) {
      finish(500, new Headers(), undefined);
      throw error;
    }
  }
}

async function requestBody(
  req: Request,
  readAtOnce: boolean,
  maxBytes: number,
): Promise<AsyncIterable<Uint8Array>> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (readAtOnce && req.body && Number.isFinite(declared) && declared <= maxBytes) {
    return createAsyncIterable([new Uint8Array(await req.arrayBuffer())]);
  }
  const reader = req.body?.getReader();
  return {
    async *[Symbol.asyncIterator]() {
      if (!reader) return;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}

async function collect(res: UniversalServerResponse): Promise<Uint8Array | undefined> {
  if (!res.body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body) chunks.push(chunk);
  if (chunks.length <= 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function streamBody(
  res: UniversalServerResponse,
  onEnd: (lastChunk: Uint8Array | undefined) => void,
  rewrite: (chunk: Uint8Array) => Uint8Array,
): ReadableStream<Uint8Array> | null {
  if (!res.body) {
    onEnd(undefined);
    return null;
  }
  const iterator = res.body[Symbol.asyncIterator]();
  let last: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) {
          onEnd(last);
          controller.close();
          return;
        }
        last = rewrite(next.value);
        controller.enqueue(last);
      } catch (error) {
        onEnd(last);
        controller.error(error);
      }
    },
    async cancel(reason) {
      onEnd(last);
      await iterator.return?.(reason);
    },
  });
}
