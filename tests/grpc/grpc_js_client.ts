/**
 * A native gRPC client for tests: `@grpc/grpc-js` (the reference Node.js client, HTTP/2 with
 * trailers and `te: trailers`), carrying raw message bytes so the caller encodes and decodes
 * with protobuf-es.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import grpc from "@grpc/grpc-js";

/** The outcome of a call as a gRPC client sees it. */
export interface GrpcOutcome {
  /** The gRPC status code (0 OK). */
  code: number;
  /** grpc-message, decoded. */
  details: string;
  /** Every response message, in order. */
  messages: Uint8Array[];
}

/** Per-call options. */
export interface GrpcCallOptions {
  /** Sent as metadata (for example `authorization`). */
  metadata?: Record<string, string>;
  /** The call's deadline, in milliseconds from now (sent as `grpc-timeout`). */
  deadlineMs?: number;
}

const identity = {
  serialize: (bytes: Uint8Array) => Buffer.from(bytes),
  deserialize: (bytes: Buffer) => new Uint8Array(bytes),
};

/**
 * A client for `target` ("127.0.0.1:50051"), plaintext or TLS with the given CA.
 *
 * @example
 * ```ts
 * const client = grpcClient("127.0.0.1:50051");
 * const outcome = await unaryCall(client, "/grpc.health.v1.Health/Check", new Uint8Array());
 * client.close();
 * ```
 */
export function grpcClient(target: string, tls?: { ca: string; serverName?: string }): grpc.Client {
  const credentials = tls
    ? grpc.credentials.createSsl(Buffer.from(tls.ca))
    : grpc.credentials.createInsecure();
  const options: grpc.ClientOptions = tls?.serverName
    ? { "grpc.ssl_target_name_override": tls.serverName }
    : {};
  return new grpc.Client(target, credentials, options);
}

function metadataOf(options: GrpcCallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return metadata;
}

function callOptions(options: GrpcCallOptions): grpc.CallOptions {
  return options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
}

/**
 * A unary call.
 *
 * @example
 * ```ts
 * const { code, messages } = await unaryCall(client, "/pkg.Service/Method", bytes);
 * ```
 */
export function unaryCall(
  client: grpc.Client,
  path: string,
  request: Uint8Array,
  options: GrpcCallOptions = {},
): Promise<GrpcOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      identity.serialize,
      identity.deserialize,
      request,
      metadataOf(options),
      callOptions(options),
      (error, response) => {
        if (error) resolve({ code: error.code, details: error.details, messages: [] });
        else resolve({ code: 0, details: "", messages: response ? [response] : [] });
      },
    );
  });
}

/**
 * A server-streaming call: every message, then the status.
 *
 * @example
 * ```ts
 * const { code, messages } = await serverStreamCall(client, "/pkg.Service/List", bytes);
 * ```
 */
export function serverStreamCall(
  client: grpc.Client,
  path: string,
  request: Uint8Array,
  options: GrpcCallOptions = {},
): Promise<GrpcOutcome> {
  return new Promise((resolve) => {
    const messages: Uint8Array[] = [];
    const call = client.makeServerStreamRequest(
      path,
      identity.serialize,
      identity.deserialize,
      request,
      metadataOf(options),
      callOptions(options),
    );
    call.on("data", (message: Uint8Array) => messages.push(message));
    call.on("error", () => {});
    call.on(
      "status",
      (status: grpc.StatusObject) =>
        resolve({ code: status.code, details: status.details, messages }),
    );
  });
}

/**
 * A bidirectional call that sends `requests`, half-closes, and collects the answers.
 *
 * @example
 * ```ts
 * const { messages } = await bidiCall(client, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", [bytes]);
 * ```
 */
export function bidiCall(
  client: grpc.Client,
  path: string,
  requests: Uint8Array[],
  options: GrpcCallOptions = {},
): Promise<GrpcOutcome> {
  return new Promise((resolve) => {
    const messages: Uint8Array[] = [];
    const call = client.makeBidiStreamRequest(
      path,
      identity.serialize,
      identity.deserialize,
      metadataOf(options),
      callOptions(options),
    );
    call.on("data", (message: Uint8Array) => messages.push(message));
    call.on("error", () => {});
    call.on(
      "status",
      (status: grpc.StatusObject) =>
        resolve({ code: status.code, details: status.details, messages }),
    );
    for (const request of requests) call.write(request);
    call.end();
  });
}
