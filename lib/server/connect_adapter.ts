/**
 * The one place where RPCs meet Deno's HTTP server. It answers what no handler should see (native
 * gRPC, which `native_grpc.ts` serves on connections of its own; unknown methods, unsupported content types, gRPC-web-text, draining), hands the unary
 * calls it can to the fast path (`fast_unary/`), and serves everything else through connect-es's
 * universal handlers: a unary body read at once and answered with one buffer, streams streamed.
 * Every call, whichever path serves it, is counted in the gRPC server metrics, including those
 * that fail before a handler runs; every body read is bounded in time.
 *
 * @module
 */
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { CallMetrics } from "./call_metrics.ts";
import { type CallRecord, callRecordKey, grpcTypeOf } from "./call_record.ts";
import { checkedEnvelopeStream } from "./envelope_flags.ts";
import type { FastUnaryHandler } from "./fast_unary/fast_unary.ts";
import { codeFromWire, protocolError, reclassifyDecodeError } from "./protocol_errors.ts";
import { type BodyReader, clientWentAway } from "./request_body.ts";

/** What the adapter needs besides the handlers. */
export interface RpcAdapterOptions {
  calls: CallMetrics;
  bodies: BodyReader;
  maxMessageBytes: number;
  isDraining: () => boolean;
  /** Procedures callable without a token ("package.Service/Method"). */
  isPublic: (procedure: string) => boolean;
  /** Names of the request compressions connect-es accepts ("gzip"). */
  compressions: readonly string[];
  /** The unary fast path; undefined serves everything through connect-es. */
  fast?: FastUnaryHandler;
  /** A client went away during its call (aborted upload, closed connection). */
  onClientGone?: (req: Request, error: unknown) => void;
}

/** A fetch-style handler for RPC paths; undefined when the path is not an RPC of this server. */
export type RpcHandler = (
  req: Request,
  remote: string,
  path: string,
) => Promise<Response> | undefined;

/**
 * Builds the RPC handler for connect-es's universal handlers.
 *
 * @example
 * ```ts ignore
 * const rpc = createRpcHandler(router.handlers, { calls, bodies, maxMessageBytes: 4 << 20, ... });
 * Deno.serve((req, info) => rpc(req, remoteOf(info), new URL(req.url).pathname) ?? notFound());
 * ```
 */
export function createRpcHandler(
  universalHandlers: readonly UniversalHandler[],
  options: RpcAdapterOptions,
): RpcHandler {
  const handlers = new Map<string, UniversalHandler>(
    universalHandlers.map((handler) => [handler.requestPath, handler]),
  );
  const serviceNames = [...new Set(universalHandlers.map((h) => h.service.typeName))];
  const { calls, bodies } = options;

  return (req, remote, path) => {
    const handler = handlers.get(path);
    const contentType = req.headers.get("content-type") ?? "";
    if (contentType.startsWith("application/grpc")) {
      const refusal = grpcRefusal(req, contentType);
      if (refusal) return Promise.resolve(refusal);
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
        unsupportedContentTypeMessage(contentType, handler),
        415,
      ));
    }
    if (options.isDraining()) {
      return Promise.resolve(
        protocolError(req, Code.Unavailable, "the server is shutting down; retry on another one"),
      );
    }
    return options.fast?.(req, path, remote, contentType) ??
      call(handler, req, remote, contentType);
  };

  async function call(
    handler: UniversalHandler,
    req: Request,
    remote: string,
    contentType: string,
  ): Promise<Response> {
    const record: CallRecord = {
      service: handler.service.typeName,
      method: handler.method.name,
      type: grpcTypeOf(handler.method.methodKind),
      received: 0,
      sent: 0,
      peer: remote,
    };
    const tracker = calls.start(record, remote);
    const finish = (status: number, headers: Headers, lastChunk: Uint8Array | undefined) =>
      tracker.finish(record.code ?? codeFromWire(status, headers, lastChunk));
    try {
      const body = await requestBody(
        req,
        // Read a unary body at once only when the gate will let it through: a call with no
        // token to a private method is refused before its body is read.
        record.type === "unary" &&
          (req.headers.has("authorization") ||
            options.isPublic(`${record.service}/${record.method}`)),
        contentType,
      );
      const uRes = await handler({
        httpVersion: "",
        method: req.method,
        url: req.url,
        header: req.headers,
        body,
        signal: req.signal,
        contextValues: createContextValues().set(callRecordKey, record),
      });
      const headers = uRes.header ?? new Headers();
      advertiseEncodings(req, contentType, headers, options.compressions);
      if (record.type === "unary" || record.type === "client_stream") {
        let status = uRes.status;
        let responseBody = await collect(uRes);
        if (record.code === undefined) {
          ({ status, body: responseBody } = reclassifyDecodeError(status, headers, responseBody));
        }
        finish(status, headers, responseBody);
        if (responseBody && headers.has("content-length")) {
          headers.set("content-length", String(responseBody.length));
        }
        return new Response(responseBody as Uint8Array<ArrayBuffer> | undefined, {
          status,
          headers,
        });
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
      if (clientWentAway(req, error)) {
        options.onClientGone?.(req, error);
        tracker.finish("Canceled");
        return new Response(null, { status: 499 });
      }
      tracker.finish("Unknown");
      throw error;
    }
  }

  async function requestBody(
    req: Request,
    readAtOnce: boolean,
    contentType: string,
  ): Promise<AsyncIterable<Uint8Array>> {
    const declared = Number(req.headers.get("content-length") ?? NaN);
    let body: AsyncIterable<Uint8Array>;
    if (
      readAtOnce && req.body && Number.isFinite(declared) && declared <= options.maxMessageBytes
    ) {
      try {
        body = createAsyncIterable([await bodies.readAll(req)]);
      } catch (error) {
        if (!(error instanceof ConnectError)) throw error;
        // Past the body deadline: connect-es answers it in the caller's protocol, after the gate.
        body = failing(error);
      }
    } else {
      body = cancelledOnClientAbort(req, bodies.chunks(req));
    }
    // Request envelopes carry 0x00 or 0x01 (compressed, with a declared encoding) and nothing
    // else; connect-es would answer other flags `internal` or skip them.
    const enveloped = contentType.startsWith("application/grpc-web")
      ? "grpc-encoding"
      : contentType.startsWith("application/connect+")
      ? "connect-content-encoding"
      : undefined;
    if (enveloped === undefined) return body;
    const encoding = req.headers.get(enveloped);
    return checkedEnvelopeStream(
      body,
      enveloped,
      encoding !== null && options.compressions.includes(encoding),
    );
  }
}

/**
 * A request compressed with an encoding the server does not support is refused (connect-es,
 * `unimplemented`); the answer also names what is supported in the header the protocol reads
 * (connect-es drops it as a protocol header).
 */
function advertiseEncodings(
  req: Request,
  contentType: string,
  headers: Headers,
  supported: readonly string[],
): void {
  const [request, accept] = contentType.startsWith("application/grpc-web")
    ? ["grpc-encoding", "grpc-accept-encoding"]
    : contentType.startsWith("application/connect+")
    ? ["connect-content-encoding", "connect-accept-encoding"]
    : ["content-encoding", "accept-encoding"];
  const encoding = req.headers.get(request);
  if (encoding === null || encoding === "identity" || supported.includes(encoding)) return;
  headers.set(accept, supported.join(","));
}

/**
 * Native gRPC reaching Deno's server (HTTP/1.1, or an h2c connection that began with Connect) and
 * gRPC-web-text are refused with a status the client can read.
 */
function grpcRefusal(req: Request, contentType: string): Response | undefined {
  if (contentType.startsWith("application/grpc-web-text")) {
    return protocolError(
      req,
      Code.Unimplemented,
      "gRPC-web-text (base64) is not served here: send binary gRPC-web " +
        "(application/grpc-web+proto or application/grpc-web+json), or use the Connect protocol",
    );
  }
  if (!contentType.startsWith("application/grpc-web")) {
    return protocolError(
      req,
      Code.Unimplemented,
      "native gRPC is served on this port over HTTP/2 only, on a connection whose first request " +
        "is native gRPC (the first request decides who serves a connection): open a new h2c or " +
        "TLS connection for it, or use gRPC-web (application/grpc-web+proto) or Connect here",
    );
  }
  return undefined;
}

/** What to send instead, for the kind of method called. */
function unsupportedContentTypeMessage(contentType: string, handler: UniversalHandler): string {
  const kind = handler.method.methodKind;
  const procedure = `${handler.service.typeName}/${handler.method.name}`;
  if (kind === "unary") {
    return `content-type ${JSON.stringify(contentType)} is not supported; send application/json ` +
      "or application/proto (Connect), or application/grpc-web+proto or +json (gRPC-web)";
  }
  return `content-type ${JSON.stringify(contentType)} is not supported by ${procedure}, a ` +
    `${kind.replace("_", "-")} method: send application/connect+json or ` +
    "application/connect+proto (Connect streaming), or application/grpc-web+proto or +json " +
    "(gRPC-web)";
}

/** A body whose first read fails with `error`. */
function failing(error: ConnectError): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}

/** A failing body read because the client went away becomes a `canceled` error. */
async function* cancelledOnClientAbort(
  req: Request,
  source: AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    if (!(error instanceof ConnectError) && clientWentAway(req, error)) {
      throw new ConnectError("the client went away during the upload", Code.Canceled);
    }
    throw error;
  }
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
