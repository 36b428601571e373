/**
 * The native gRPC bridge process, started by the service (`native_grpc.ts`):
 * `GRPC_BRIDGE_UPSTREAM=http://127.0.0.1:50051 deno run --allow-net
 * --allow-env=GRPC_BRIDGE_UPSTREAM,GRPC_BRIDGE_SECRET lib/server/grpc_bridge/bridge_main.ts`. Prints `{"port":N}`
 * once it listens on a loopback port; the service relays native gRPC connections to it and
 * restarts it if it dies. It drains (GOAWAY; calls in progress finish) and ends when its stdin
 * closes (the service closes it last when it shuts
 * down, or dies), not on SIGTERM or SIGINT: a signal to the whole process group must not cut the
 * calls the service is still draining.
 *
 * @module
 */
import { startGrpcBridge } from "./bridge_server.ts";

const upstream = Deno.env.get("GRPC_BRIDGE_UPSTREAM");
if (!upstream) {
  console.error("GRPC_BRIDGE_UPSTREAM (the service's own URL) is required");
  Deno.exit(2);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => {});
const bridge = await startGrpcBridge(upstream, Deno.env.get("GRPC_BRIDGE_SECRET") ?? "");
console.log(JSON.stringify({ port: bridge.port }));
for await (const _ of Deno.stdin.readable) {
  // nothing is sent; the end of stdin is the signal
}
// GOAWAY to every client; calls in progress finish (the service waits at most its grace period).
await bridge.drain();
Deno.exit(0);
