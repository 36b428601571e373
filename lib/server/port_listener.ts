/**
 * One port, every protocol: accepts the connections itself and gives each to the server that can
 * answer it, from its first byte:
 *
 * - plaintext: HTTP/1.1, and h2c whose first request is not native gRPC, to Deno's own HTTP
 *   server (the same one `Deno.serve` runs, one connection at a time), so Connect, gRPC-web and
 *   the unary fast path keep their speed; h2c whose first request is native gRPC (or that sends
 *   no request at once) to node:http2 (`native_grpc.ts`), which sends HTTP/2 trailers;
 * - TLS: ALPN decides; `http/1.1` to Deno's server, `h2` to node:http2 (which serves Connect and
 *   gRPC-web on it too, through the same fetch handler).
 *
 * The first bytes of a plaintext connection are looked at without being read
 * (`connection_peek.ts`). Deno's server takes one connection through an internal of Deno 2.9.6
 * (`serveHttpOnConnection`). Where either is missing, the port is served by `Deno.serve` as
 * before, without native gRPC, and {@link startPortListener} says why.
 *
 * @module
 */
import type { ConnectionPeeker } from "./connection_peek.ts";
import type { NativeGrpcServer } from "./native_grpc.ts";

/** A fetch handler as `Deno.serve` calls it. */
export type FetchHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Where and how the port listens. */
export interface PortListenerOptions {
  hostname: string;
  port: number;
  tls?: { cert: string; key: string };
  fetch: FetchHandler;
  onError: (error: unknown) => Response | Promise<Response>;
  /** The HTTP/2 server for native gRPC. */
  h2: NativeGrpcServer;
  /** Undefined when this runtime cannot peek at connections. */
  peek?: ConnectionPeeker;
  /** Says why native gRPC is off when it is. */
  onFallback: (reason: string) => void;
}

/** A listening port. */
export interface PortListener {
  readonly port: number;
  /** True when native gRPC is served on this port. */
  readonly nativeGrpc: boolean;
  /** Stops accepting, then lets every connection finish its requests in progress. */
  shutdown(): Promise<void>;
  /** Resolves once the port is closed. */
  readonly finished: Promise<void>;
}

interface HttpConnection {
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal | undefined,
  handler: FetchHandler,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: () => void,
) => HttpConnection;

/**
 * Deno's HTTP server for one accepted connection (internal to Deno; see the module doc).
 */
function serveOnConnection(): ServeOnConnection | undefined {
  const internals = (Deno as unknown as Record<symbol | string, unknown>)[
    (Deno as unknown as { internal: symbol }).internal
  ] as { serveHttpOnConnection?: ServeOnConnection } | undefined;
  return typeof internals?.serveHttpOnConnection === "function"
    ? internals.serveHttpOnConnection
    : undefined;
}

/**
 * Listens on the port.
 *
 * @example
 * ```ts ignore
 * const listener = startPortListener({ hostname: "0.0.0.0", port: 50051, fetch, onError, h2, peek,
 *   onFallback: (why) => logger.warn("native gRPC off", { why }) });
 * await listener.shutdown();
 * ```
 */
export function startPortListener(options: PortListenerOptions): PortListener {
  const serveOn = serveOnConnection();
  const why = !serveOn
    ? "this Deno has no serveHttpOnConnection"
    : !options.tls && !options.peek
    ? "connections cannot be peeked at"
    : undefined;
  if (why) {
    options.onFallback(why);
    return denoServe(options);
  }
  const listener = options.tls
    ? Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.tls.cert,
      key: options.tls.key,
      alpnProtocols: ["h2", "http/1.1"],
    })
    : Deno.listen({ hostname: options.hostname, port: options.port });
  const connections = new Set<HttpConnection>();
  let closing = false;

  const toDeno = (conn: Deno.Conn) => {
    if (closing) {
      conn.close();
      return;
    }
    let http: HttpConnection;
    try {
      http = serveOn!(conn, undefined, options.fetch, options.onError, () => {});
    } catch {
      try {
        conn.close();
      } catch { /* closed */ }
      return;
    }
    connections.add(http);
    // A reset connection rejects `finished`: the connection is gone, the server stays.
    http.finished.catch(() => {}).finally(() => connections.delete(http));
  };

  const route = async (conn: Deno.Conn) => {
    try {
      if (options.tls) {
        const { alpnProtocol } = await (conn as Deno.TlsConn).handshake();
        if (alpnProtocol === "h2") options.h2.serve(conn);
        else toDeno(conn);
        return;
      }
      const verdict = await options.peek!(conn);
      if (verdict === "h2-grpc" || verdict === "h2-no-request") options.h2.serve(conn);
      else toDeno(conn);
    } catch {
      // A failed handshake or a connection reset before its first byte.
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };

  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        // Out of file descriptors and the like: the next accept may work.
        if (error instanceof Deno.errors.BadResource) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      route(conn);
    }
  })();

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  return {
    port: (listener.addr as Deno.NetAddr).port,
    nativeGrpc: true,
    async shutdown() {
      if (!closing) {
        closing = true;
        listener.close();
        await accepting;
        options.h2.drain();
        // Native gRPC calls in progress go through the bridge and back through Deno's
        // connections: both wind down together, each letting its calls finish.
        await Promise.all([
          ...[...connections].map((c) => c.shutdown().catch(() => {})),
          options.h2.close(),
        ]);
        finish();
      }
      await finished;
    },
    finished,
  };
}

/** The port as `Deno.serve` serves it: no native gRPC. */
function denoServe(options: PortListenerOptions): PortListener {
  let port = options.port;
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls ?? {}),
    onListen: (addr) => port = addr.port,
    onError: options.onError,
  }, options.fetch as Deno.ServeHandler<Deno.NetAddr>);
  port = (server.addr as Deno.NetAddr).port;
  return {
    get port() {
      return port;
    },
    nativeGrpc: false,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
