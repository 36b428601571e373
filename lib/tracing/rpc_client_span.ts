/**
 * The client side of an RPC between services: a CLIENT span named after the method
 * (`platform.users.v1.UserService/ListOnlineDevelopers`) with the `rpc.*` attributes and the
 * call's code, active while the call runs, so Deno's `POST` fetch span (which carries the trace
 * context to the other service in the `traceparent` header) and the server's RPC span sit under
 * it. Any code but OK marks it as an error, as OpenTelemetry's gRPC conventions say for clients.
 *
 * @module
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { snakeCase } from "./rpc_span.ts";
import { platformTracer } from "./tracer.ts";
import { tracingEnabled } from "./tracing_enabled.ts";

/**
 * A connect-es client interceptor that traces each call; with tracing off it passes calls on
 * untouched.
 *
 * @example
 * ```ts ignore
 * createConnectTransport({ baseUrl, interceptors: [rpcClientTracing(), auth] });
 * ```
 */
export function rpcClientTracing(): Interceptor {
  return (next) => async (req) => {
    if (!tracingEnabled) return await next(req);
    const service = req.service.typeName;
    const method = req.method.name;
    const parent = context.active();
    const span = platformTracer().startSpan(`${service}/${method}`, {
      kind: SpanKind.CLIENT,
      attributes: { "rpc.system": "connect_rpc", "rpc.service": service, "rpc.method": method },
    }, parent);
    try {
      const res = await context.with(trace.setSpan(parent, span), () => next(req));
      span.setAttribute("rpc.grpc.status_code", 0);
      return res;
    } catch (error) {
      const code = ConnectError.from(error).code;
      span.setAttribute("rpc.grpc.status_code", code);
      span.setAttribute("rpc.connect_rpc.error_code", snakeCase(Code[code] ?? "Unknown"));
      span.setStatus({ code: SpanStatusCode.ERROR, message: Code[code] });
      throw error;
    } finally {
      span.end();
    }
  };
}
