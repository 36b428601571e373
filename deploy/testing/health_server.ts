/**
 * Runs a container healthcheck command (`deno eval ...`) against a throwaway HTTP server, to
 * prove it passes on 200 and fails otherwise without a container engine.
 *
 * @module
 */

/**
 * Serves `/health` with the given status on a free port; returns the port and a closer.
 *
 * @example
 * ```ts
 * const server = serveHealth(200);
 * await server.close();
 * ```
 */
export function serveHealth(status: number): { port: number; close: () => Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/health"
        ? Response.json({ status: status === 200 ? "healthy" : "unhealthy" }, { status })
        : new Response("not found", { status: 404 }),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

/**
 * A free TCP port on 127.0.0.1 that nothing listens on (when this returns).
 *
 * @example
 * ```ts
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Runs a healthcheck's `deno eval` command with this Deno and extra environment; returns the
 * exit code (0 healthy, 1 unhealthy).
 *
 * @example
 * ```ts
 * const code = await runHealthcheck(["deno", "eval", "Deno.exit(0)"], {});
 * ```
 */
export async function runHealthcheck(
  command: readonly string[],
  env: Record<string, string>,
): Promise<number> {
  if (command[0] !== "deno") throw new Error(`expected a deno command: ${command.join(" ")}`);
  const result = await new Deno.Command(Deno.execPath(), {
    args: command.slice(1),
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  return result.code;
}
