/**
 * The HTTP/2 connections Deno's HTTP server cannot answer: native gRPC needs HTTP/2 trailers.
 * Deno 2.9.6's node:http2 sends them, but its server aborts its process under concurrent load
 * (an nghttp2 assertion in `find_stream_on_goaway_func`, or `free(): invalid pointer`; h2load
 * -c16 -m8 against a bare node:http2 server reproduces it). So node:http2 runs in a process of
 * its own, the gRPC bridge (`grpc_bridge/`), which passes every call back to this port as
 * gRPC-web: the same handlers, auth gate, interceptors, size limit, deadlines and metrics. This
 * module starts the bridge, restarts it when it dies (its calls in progress fail, the service
 * stays up) and relays the connections the port listener gives it.
 *
 * @module
 */

/** What the bridge needs from the service server. */
export interface NativeGrpcOptions {
  /** Reports the bridge's life: started, died (and restarting), could not start. */
  onEvent: (event: "started" | "died" | "failed", detail: Record<string, unknown>) => void;
}

/** The native gRPC side of a port. */
export interface NativeGrpcServer {
  /** Starts the bridge process, which calls the service back at `upstream` (its own URL). */
  start(upstream: string): Promise<void>;
  /** Relays a connection Deno accepted, from its first byte, to the bridge. */
  serve(conn: Deno.Conn): Promise<void>;
  /** Stops taking connections; those open keep going until {@link NativeGrpcServer.close}. */
  drain(): void;
  /**
   * Drains the bridge (GOAWAY; calls in progress finish), then stops it and closes the relays;
   * the bridge is killed after `graceMs`.
   */
  close(graceMs?: number): Promise<void>;
  /**
   * The client behind a bridged call (`host:port` of the connection the port accepted), from the
   * bridge's peer header; undefined for a header that is missing, forged or stale.
   */
  peerOf(bridgePeerHeader: string | null): string | undefined;
}

const BRIDGE_MAIN = new URL("./grpc_bridge/bridge_main.ts", import.meta.url);

/**
 * Creates the native gRPC side; nothing runs before {@link NativeGrpcServer.start}.
 *
 * @example
 * ```ts ignore
 * const grpc = createNativeGrpcServer({ onEvent: (e, d) => logger.info(`grpc bridge ${e}`, d) });
 * await grpc.start(`http://127.0.0.1:${port}`);
 * grpc.serve(conn); // a connection whose first request is native gRPC
 * ```
 */
export function createNativeGrpcServer(options: NativeGrpcOptions): NativeGrpcServer {
  const relays = new Set<Deno.Conn>();
  /** Only the bridge knows it: a client cannot name another client's address. */
  const secret = crypto.randomUUID();
  /** The bridge-side port of each relay -> the address of the client it carries. */
  const peers = new Map<number, string>();
  let bridge: { process: Deno.ChildProcess; port: number } | undefined;
  let closing = false;
  let draining = false;
  let failures = 0;
  /** Connections waiting for the bridge to (re)start. */
  let waiters: Array<() => void> = [];
  const bridgePort = async (): Promise<number | undefined> => {
    if (bridge || closing) return bridge?.port;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 15_000);
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return (bridge as { port: number } | undefined)?.port;
  };

  const spawn = async (upstream: string): Promise<void> => {
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net",
        "--allow-env=GRPC_BRIDGE_UPSTREAM,GRPC_BRIDGE_SECRET",
        // Over TLS it calls this process back on 127.0.0.1, which the certificate does not name.
        ...(upstream.startsWith("https:")
          ? ["--unsafely-ignore-certificate-errors=127.0.0.1"]
          : []),
        BRIDGE_MAIN.pathname,
      ],
      env: { GRPC_BRIDGE_UPSTREAM: upstream, GRPC_BRIDGE_SECRET: secret },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let first = "";
    while (!first.includes("\n")) {
      const { done, value } = await lines.read();
      if (done) break;
      first += value;
    }
    lines.releaseLock();
    process.stdout.cancel().catch(() => {});
    const stderr = new Response(process.stderr).text();
    let port = 0;
    try {
      port = Number(JSON.parse(first.split("\n")[0] || "{}").port);
    } catch { /* not the line it prints: a failed start */ }
    if (!port) {
      try {
        process.kill("SIGKILL");
      } catch { /* already gone */ }
      options.onEvent("failed", { stderr: (await stderr).slice(-2000) });
      // Tried again, slower each time, until the service stops.
      failures++;
      setTimeout(() => {
        if (!closing) spawn(upstream).catch(() => {});
      }, Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
      return;
    }
    if (closing) {
      // The service stopped while the bridge started: it must not outlive the service.
      await process.stdin.close().catch(() => {});
      return;
    }
    failures = 0;
    bridge = { process, port };
    options.onEvent("started", { port, pid: process.pid });
    for (const wake of waiters) wake();
    waiters = [];
    process.status.then(async (status) => {
      if (bridge?.process === process) bridge = undefined;
      if (closing) return;
      options.onEvent("died", {
        code: status.code,
        signal: status.signal,
        stderr: (await stderr).slice(-500),
      });
      setTimeout(() => {
        if (!closing) spawn(upstream).catch(() => {});
      }, 1000);
    });
  };

  return {
    start: spawn,
    async serve(conn) {
      let relay: Deno.TcpConn | undefined;
      try {
        const port = draining ? undefined : await bridgePort();
        if (port === undefined) throw new Error("no bridge");
        relay = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        close(conn);
        return;
      }
      relays.add(relay);
      const relayPort = (relay.localAddr as Deno.NetAddr).port;
      const client = conn.remoteAddr as Deno.NetAddr;
      peers.set(relayPort, `${client.hostname}:${client.port}`);
      relay.setNoDelay(true);
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
      // Either side ending ends both.
      await Promise.allSettled([
        conn.readable.pipeTo(relay.writable),
        relay.readable.pipeTo(conn.writable),
      ]);
      close(conn);
      close(relay);
      relays.delete(relay);
      peers.delete(relayPort);
    },
    peerOf(header) {
      if (header === null) return undefined;
      const [given, port] = header.split(" ");
      if (given !== secret) return undefined;
      return peers.get(Number(port));
    },
    drain() {
      draining = true;
    },
    async close(graceMs = 5000) {
      closing = true;
      for (const wake of waiters) wake();
      waiters = [];
      const process = bridge?.process;
      bridge = undefined;
      if (process) {
        // The bridge ends when its stdin closes (it ignores SIGTERM, see bridge_main.ts).
        await process.stdin.close().catch(() => {});
        const killer = setTimeout(() => {
          try {
            process.kill("SIGKILL");
          } catch {
            // already gone
          }
        }, graceMs);
        await process.status;
        clearTimeout(killer);
      }
      for (const relay of relays) close(relay);
    },
  };
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
