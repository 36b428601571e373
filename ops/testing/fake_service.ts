/**
 * A stand-in for a platform service's `/health` (the manual's JSON), for tests of the programs
 * that read it.
 *
 * @module
 */

/** A running fake service. */
export interface FakeService {
  url: string;
  /** Changes what /health answers from now on. */
  set(status: "healthy" | "degraded" | "unhealthy"): void;
  close(): Promise<void>;
}

/**
 * Serves `GET /health` on a free loopback port.
 *
 * @example
 * ```ts
 * const users = startFakeService("healthy");
 * await fetch(`${users.url}/health`);
 * await users.close();
 * ```
 */
export function startFakeService(
  status: "healthy" | "degraded" | "unhealthy",
  /** Answer `status` this many times, then "healthy" (a service coming up). */
  healthyAfter = Infinity,
): FakeService {
  let current = status;
  let answered = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname !== "/health") return new Response("not found", { status: 404 });
    if (++answered > healthyAfter) current = "healthy";
    return Response.json(
      {
        status: current,
        version: "v1.0.0",
        timestamp: new Date().toISOString(),
        checks: {
          database: current === "unhealthy" ? "unhealthy" : "healthy",
          redis: current === "degraded" ? "unhealthy" : "healthy",
        },
        uptime: "1h2m3s",
      },
      { status: current === "unhealthy" ? 503 : 200 },
    );
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    set: (next) => {
      current = next;
    },
    close: () => server.shutdown(),
  };
}

/**
 * A loopback URL where nothing listens.
 *
 * @example
 * ```ts
 * const dead = deadUrl(); // "http://127.0.0.1:40123"
 * ```
 */
export function deadUrl(scheme = "http"): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `${scheme}://127.0.0.1:${port}`;
}
