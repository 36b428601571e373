/**
 * Server bootstrap: one port serving Connect and gRPC-web (JSON and binary) over HTTP/1.1 and
 * h2c, native gRPC over h2c (HTTPS, h2 and native gRPC over TLS when TLS files are configured;
 * see `port_listener.ts` for which server answers which connection), gRPC health and
 * reflection, `/health`, `/livez`, `/readyz` and `/metrics`, and a graceful shutdown on
 * SIGTERM/SIGINT.
 *
 * @module
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "@platform/proto/grpc/health/v1";
import { ServerReflection } from "@platform/proto/grpc/reflection/v1";
import { ServerReflection as ServerReflectionV1alpha } from "@platform/proto/grpc/reflection/v1alpha";
import { authGate, isPublicProcedure } from "../auth/auth_gate.ts";
import type { TokenService } from "../auth/tokens.ts";
import type { BaseConfig } from "../config/base_config.ts";
import type { HealthMonitor } from "../health/health_monitor.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/registry.ts";
import { CallMetrics } from "./call_metrics.ts";
import { createRpcHandler } from "./connect_adapter.ts";
import { connectionPeeker } from "./connection_peek.ts";
import { corsRefusalLog, withCors } from "./cors.ts";
import { debugRoute } from "./debug_routes.ts";
import { createFastUnary } from "./fast_unary/fast_unary.ts";
import { grpcHealthService } from "./grpc_health.ts";
import { compressionGzip } from "./gzip_compression.ts";
import { errorInterceptor, metricsInterceptor } from "./interceptors.ts";
import { createNativeGrpcServer } from "./native_grpc.ts";
import { BRIDGE_PEER_HEADER } from "./grpc_bridge/peer_header.ts";
import { createPlatformRouter } from "./platform_router.ts";
import { startPortListener } from "./port_listener.ts";
import { reflectionService, reflectionServiceV1alpha } from "./reflection.ts";
import { requestPath } from "./request_path.ts";
import { BodyReader } from "./request_body.ts";

/** connect-es's router, on which a service registers its RPC implementations. */
export type { ConnectRouter };

/** Everything a service hands to the server. */
export interface ServiceServerOptions {
  /** The service's parsed configuration (port, TLS, limits, timeouts). */
  config: BaseConfig;
  /** The service's logger. */
  logger: Logger;
  /** The registry `/metrics` serves and the gRPC metrics are recorded in. */
  metrics: Metrics;
  /** The dependency checks `/health` and gRPC health report. */
  health: HealthMonitor;
  /** Verifies the bearer tokens of calls that need one. */
  tokens: TokenService;
  /** Procedures callable without a token, as "package.Service/Method". */
  publicProcedures?: readonly string[];
  /** Registers the service's RPC implementations; returns the services it registered. */
  routes: (router: ConnectRouter) => DescService[];
  /** Runs after the HTTP server has drained, in order: stop consumers, then close pools. */
  onShutdown?: Array<() => Promise<void> | void>;
  /**
   * Runs as soon as draining starts, before the server waits for calls in flight: ends what never
   * ends by itself (notification streams), so that shutdown does not wait out its grace period.
   */
  onDrain?: Array<() => void>;
}

/** A server that is listening. */
export interface RunningServer {
  /** The port it listens on (the chosen one when PORT=0). */
  port: number;
  /** Drains and stops; resolves when everything is closed. Safe to call twice. */
  shutdown(reason?: string): Promise<void>;
  /** Resolves once the server has shut down. */
  finished: Promise<void>;
}

/**
 * Starts the server and installs the signal handlers.
 *
 * @example
 * ```ts ignore
 * const server = await startServiceServer({ config, logger, metrics, health, tokens, routes });
 * logger.info("ready", { port: server.port });
 * ```
 */
export function startServiceServer(options: ServiceServerOptions): RunningServer {
  const { config, logger, metrics, health, tokens } = options;
  let draining = false;
  const shutdownController = new AbortController();
  const publicProcedures = new Set(options.publicProcedures ?? []);
  const interceptors = [metricsInterceptor(), errorInterceptor(logger)];
  const requestGate = authGate(tokens, publicProcedures);
  const acceptCompression = [compressionGzip];
  // gzip requests are accepted; answers are not compressed (services sit on a local network, and
  // gzip on the event loop cost the read path several per cent). The edge proxy may compress.
  const compressMinBytes = Number.MAX_SAFE_INTEGER;
  const { router, unary } = createPlatformRouter({
    readMaxBytes: config.maxMessageBytes,
    writeMaxBytes: config.maxMessageBytes,
    acceptCompression,
    compressMinBytes,
    shutdownSignal: shutdownController.signal,
    interceptors,
    requestGate,
  });
  const services = options.routes(router);
  const served = [...services, Health, ServerReflection, ServerReflectionV1alpha];
  router.service(
    Health,
    grpcHealthService(health, services.map((s) => s.typeName), () => draining),
  );
  router.service(ServerReflection, reflectionService(served));
  router.service(ServerReflectionV1alpha, reflectionServiceV1alpha(served));
  const calls = new CallMetrics(metrics);
  const bodies = new BodyReader(
    config.requestBodyTimeoutMs,
    (req, error) =>
      logger.warn("malformed request body; answered invalid_argument", {
        path: requestPath(req.url),
        error: (error as Error)?.message,
      }),
  );
  const onClientGone = (req: Request, error: unknown) =>
    logger.debug("client went away during its call", {
      path: requestPath(req.url),
      error: (error as Error)?.message,
    });
  const rpc = createRpcHandler(router.handlers, {
    calls,
    bodies,
    maxMessageBytes: config.maxMessageBytes,
    isDraining: () => draining,
    isPublic: (procedure) => isPublicProcedure(procedure, publicProcedures),
    compressions: acceptCompression.map((c) => c.name),
    onClientGone,
    fast: config.rpcFastPath
      ? createFastUnary({
        routes: unary,
        interceptors,
        requestGate,
        readMaxBytes: config.maxMessageBytes,
        writeMaxBytes: config.maxMessageBytes,
        acceptCompression,
        compressMinBytes,
        shutdownSignal: shutdownController.signal,
        calls,
        bodies,
        onClientGone,
      })
      : undefined,
  });

  /**
   * The caller's `host:port`: the connection's, or for a call the native gRPC bridge passes back,
   * the connection the port accepted for it (else every native gRPC client would be 127.0.0.1 to
   * the login limits).
   */
  const peerOf = (req: Request, info: Deno.ServeHandlerInfo): string => {
    const bridged = req.headers.get(BRIDGE_PEER_HEADER);
    const client = bridged === null ? undefined : h2.peerOf(bridged);
    if (client !== undefined) return client;
    const addr = info.remoteAddr as Deno.NetAddr;
    return `${addr.hostname}:${addr.port}`;
  };

  const handler = (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    const path = requestPath(req.url);
    if (!path.startsWith("/debug/")) {
      const rpcResponse = rpc(req, peerOf(req, info), path);
      if (rpcResponse) return rpcResponse;
    }
    return otherRoutes(req, info, path);
  };

  const otherRoutes = async (
    req: Request,
    info: Deno.ServeHandlerInfo,
    rawPath: string,
  ): Promise<Response> => {
    const debug = await debugRoute(req, tokens);
    if (debug) return debug;
    const path = new URL(req.url).pathname;
    if (path !== rawPath) {
      // A path that only normalising turns into an RPC path (dot segments, escapes).
      const rpcResponse = rpc(req, peerOf(req, info), path);
      if (rpcResponse) return await rpcResponse;
    }
    if (req.method === "GET" || req.method === "HEAD") {
      switch (path) {
        case "/health": {
          const report = await health.report();
          const status = draining ? 503 : report.status === "unhealthy" ? 503 : 200;
          return Response.json(draining ? { ...report, status: "unhealthy" } : report, { status });
        }
        case "/livez":
          return Response.json({ status: "alive" });
        case "/readyz":
          return draining
            ? Response.json({ status: "draining" }, { status: 503 })
            : Response.json({ status: "ready" });
        case "/metrics":
          return new Response(await metrics.registry.metrics(), {
            headers: { "content-type": metrics.registry.contentType },
          });
      }
    }
    return new Response(
      `not found: ${path}. This port serves RPCs (Connect, gRPC-web) at /<package.Service>/<Method> ` +
        "and GET /health, /livez, /readyz, /metrics, /debug/* (admins).\n",
      { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } },
    );
  };

  // Requests in progress and when the last one arrived or ended: the drain keeps the listener
  // open while requests still come (load balancers that have not noticed /readyz yet).
  let inFlight = 0;
  let lastActivity = 0;
  const withOrigins = withCors(config.cors, handler, { onRefused: corsRefusalLog(logger) });
  const serve = async (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    inFlight++;
    lastActivity = Date.now();
    try {
      const response = await withOrigins(req, info);
      // Draining, or a body the server did not read to its end (refused unread, too large, too
      // late, broken): the answer says `Connection: close`. (Deno.serve 2.9 closes the socket only
      // once the rest of such a body has come or the client has gone: the edge proxy's
      // client_body_timeout bounds a client that never sends it; docs/operations.md.)
      return draining || !bodies.readToEnd(req) ? closingConnection(response) : response;
    } finally {
      inFlight--;
      lastActivity = Date.now();
    }
  };

  const tls = config.tls
    ? {
      cert: Deno.readTextFileSync(config.tls.certFile),
      key: Deno.readTextFileSync(config.tls.keyFile),
    }
    : {};
  const h2 = createNativeGrpcServer({
    onEvent: (event, detail) =>
      event === "started" ? logger.info("native gRPC bridge started", detail) : logger.warn(
        `native gRPC bridge ${event}; native gRPC calls fail until it is back`,
        detail,
      ),
  });
  const httpServer = startPortListener({
    hostname: config.host,
    port: config.port,
    tls: config.tls ? tls as { cert: string; key: string } : undefined,
    fetch: serve,
    onError: (error) => {
      logger.error("request failed", { error });
      return new Response("internal error", { status: 500 });
    },
    h2,
    peek: config.tls ? undefined : connectionPeeker(
      { firstBytesMs: config.requestBodyTimeoutMs, firstRequestMs: 200 },
      (reason) => logger.warn("cannot peek at connections", { reason }),
    ),
    onFallback: (reason) =>
      logger.warn("native gRPC is off on this port (Connect and gRPC-web are served)", {
        reason,
      }),
  });
  const port = httpServer.port;
  if (httpServer.nativeGrpc) {
    h2.start(`${config.tls ? "https" : "http"}://127.0.0.1:${port}`).catch((error) =>
      logger.warn("native gRPC bridge could not start", { error })
    );
  }

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (reason = "requested") => {
    shutdownPromise ??= (async () => {
      draining = true;
      const started = Date.now();
      const deadline = started + config.shutdownGraceMs;
      logger.info("shutting down", {
        reason,
        grace_ms: config.shutdownGraceMs,
        drain_ms: config.shutdownDrainMs,
      });
      // What never ends by itself (notification streams) ends now, so the drain below is not
      // held until the grace period by streams counted in flight.
      for (const step of options.onDrain ?? []) step();
      // The listener stays open, /readyz answering 503 and every response carrying
      // `Connection: close` (new RPCs are refused as unavailable: retry elsewhere), until no
      // request is in flight and none has arrived for SHUTDOWN_DRAIN_MS, or the grace period ends.
      while (
        Date.now() < deadline &&
        (inFlight > 0 || Date.now() - Math.max(lastActivity, started) < config.shutdownDrainMs)
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      logger.info("closing the listener", {
        drained_ms: Date.now() - started,
        in_flight: inFlight,
      });
      // Streams still open when the grace period ends are cancelled.
      const grace = new Promise<"timeout">((resolve) => {
        const timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
        Deno.unrefTimer(timer);
      });
      const drained = await Promise.race([httpServer.shutdown().then(() => "drained"), grace]);
      if (drained === "timeout") {
        logger.warn("grace period over; cancelling the calls still in flight");
        shutdownController.abort();
      }
      for (const step of options.onShutdown ?? []) {
        try {
          await step();
        } catch (error) {
          logger.error("shutdown step failed", { error });
        }
      }
      logger.info("stopped");
    })();
    return shutdownPromise;
  };
  const onSignal = (signal: Deno.Signal) => () => {
    shutdown(signal).then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));
  Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
  // Said only once the signal listeners are in place: whoever starts the service on this line
  // may stop it at once, and a SIGTERM before them would end the process without a drain.
  logger.info("listening", {
    port,
    tls: config.tls !== undefined,
    native_grpc: httpServer.nativeGrpc,
    services: served.map((s) => s.typeName),
  });
  return {
    get port() {
      return port;
    },
    shutdown,
    finished: httpServer.finished,
  };
}

/**
 * The response with `Connection: close`, so an HTTP/1.1 client opens its next request on a new
 * connection (to another replica) instead of reusing this one. HTTP/2 has no such header (the
 * server's GOAWAY at close does the same); it is left out there.
 */
function closingConnection(response: Response): Response {
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    // Immutable headers (a response from fetch, say): a copy with the header.
    const headers = new Headers(response.headers);
    headers.set("connection", "close");
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }
}
