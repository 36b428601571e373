/**
 * The span of one RPC. Deno's `Deno.serve` already opens a SERVER span per HTTP request, named
 * after the HTTP method (`POST`), and makes it the active span while the handler runs. Rather
 * than nest a second span inside it, the server renames that span to the RPC
 * (`platform.tasks.v1.TaskService/CreateTask`, as OpenTelemetry's RPC conventions name a server
 * span) and adds the `rpc.*` attributes: one span per RPC, whichever path serves it (the unary
 * fast path or connect-es), and everything the handler does (queries, fetches, outbox rows)
 * is its child.
 *
 * Status: the code goes in `rpc.grpc.status_code` (Connect and gRPC share the numbers) and, when
 * not OK, in `rpc.connect_rpc.error_code`. Only server-side failures (Unknown, DeadlineExceeded,
 * Unimplemented, Internal, Unavailable, DataLoss) mark the span as an error; a client's mistake
 * (invalid_argument, not_found, a lost race to accept) is a successful answer of the server,
 * as OpenTelemetry's gRPC conventions say for servers.
 *
 * @module
 */
import { type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { tracingEnabled } from "./tracing_enabled.ts";

/** The code names in number order (Connect and gRPC share them). */
const CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

const SERVER_FAULTS = new Set([
  "Unknown",
  "DeadlineExceeded",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
]);

/** The RPC's span while the call runs. */
export interface RpcSpan {
  /** Records the call's final code (`OK`, `InvalidArgument`, ...). */
  end(code: string): void;
}

/**
 * Names the active server span after the RPC and gives it the `rpc.*` attributes; undefined
 * with tracing off or outside a traced request (nothing is made then).
 *
 * @example
 * ```ts
 * const span = startRpcSpan("platform.tasks.v1.TaskService", "CreateTask");
 * // ... the call runs ...
 * span?.end("OK");
 * ```
 */
export function startRpcSpan(service: string, method: string): RpcSpan | undefined {
  if (!tracingEnabled) return undefined;
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  span.updateName(`${service}/${method}`);
  span.setAttributes({
    "rpc.system": "connect_rpc",
    "rpc.service": service,
    "rpc.method": method,
  });
  return new ActiveRpcSpan(span);
}

class ActiveRpcSpan implements RpcSpan {
  constructor(private readonly span: Span) {}

  end(code: string): void {
    const number = CODE_NAMES.indexOf(code as typeof CODE_NAMES[number]);
    this.span.setAttribute("rpc.grpc.status_code", number < 0 ? 2 : number);
    if (code === "OK") return;
    this.span.setAttribute("rpc.connect_rpc.error_code", snakeCase(code));
    if (SERVER_FAULTS.has(code) || number < 0) {
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    }
  }
}

/**
 * Connect's wire name of a code name (`InvalidArgument` -> `invalid_argument`).
 *
 * @example
 * ```ts
 * snakeCase("FailedPrecondition"); // "failed_precondition"
 * ```
 */
export function snakeCase(codeName: string): string {
  return codeName.replace(/[A-Z]/g, (c, i) => (i === 0 ? "" : "_") + c.toLowerCase());
}
