/**
 * Admin-only diagnostics, the Deno stand-in for the manual's `go tool pprof` endpoints:
 *
 * - `GET /debug/heap`: a V8 heap snapshot (open it in Chrome DevTools, Memory tab);
 * - `GET /debug/profile?seconds=10`: a CPU profile (`.cpuprofile`, DevTools Performance tab);
 * - `GET /debug/memory`: heap statistics as JSON.
 *
 * Every route needs `Authorization: Bearer <admin token>` (`deno task admin-token`).
 *
 * @module
 */
import { Session } from "node:inspector";
import v8 from "node:v8";
import { bearerToken } from "../auth/bearer.ts";
import type { TokenService } from "../auth/tokens.ts";

/**
 * Answers a `/debug/...` request, or undefined for any other path.
 *
 * @example
 * ```ts ignore
 * const debug = await debugRoute(req, tokens);
 * if (debug) return debug;
 * ```
 */
export async function debugRoute(
  req: Request,
  tokens: TokenService,
): Promise<Response | undefined> {
  const url = new URL(req.url);
  if (!url.pathname.startsWith("/debug/")) return undefined;
  const denied = await requireAdmin(req, tokens);
  if (denied) return denied;
  switch (url.pathname) {
    case "/debug/memory":
      return Response.json({ memory: Deno.memoryUsage(), heap: v8.getHeapStatistics() });
    case "/debug/heap":
      return new Response(streamFrom(v8.getHeapSnapshot()), {
        headers: {
          "content-type": "application/json",
          "content-disposition": `attachment; filename="heap-${Date.now()}.heapsnapshot"`,
        },
      });
    case "/debug/profile": {
      const seconds = Number(url.searchParams.get("seconds") ?? "10");
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 120) {
        return Response.json({ error: "seconds must be an integer from 1 to 120" }, {
          status: 400,
        });
      }
      return Response.json(await cpuProfile(seconds * 1000), {
        headers: {
          "content-disposition": `attachment; filename="cpu-${Date.now()}.cpuprofile"`,
        },
      });
    }
  }
  return Response.json({
    error: "unknown debug route; try /debug/heap, /debug/profile, /debug/memory",
  }, {
    status: 404,
  });
}

async function requireAdmin(req: Request, tokens: TokenService): Promise<Response | undefined> {
  const token = bearerToken(req.headers.get("authorization"));
  if (token === undefined) {
    return Response.json({ error: "send Authorization: Bearer <admin token>" }, { status: 401 });
  }
  try {
    const principal = await tokens.verify(token);
    if (principal.role !== "admin") {
      return Response.json({ error: "debug routes are for admins" }, { status: 403 });
    }
    return undefined;
  } catch (error) {
    return Response.json({ error: (error as Error).message }, { status: 401 });
  }
}

function cpuProfile(durationMs: number): Promise<unknown> {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(
        method,
        {},
        (error: unknown, result: unknown) => error ? reject(error) : resolve(result),
      )
    );
  return (async () => {
    try {
      await post("Profiler.enable");
      await post("Profiler.start");
      await new Promise((resolve) => setTimeout(resolve, durationMs));
      const { profile } = await post("Profiler.stop") as { profile: unknown };
      return profile;
    } finally {
      session.disconnect();
    }
  })();
}

function streamFrom(source: AsyncIterable<Uint8Array | string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else {controller.enqueue(
          typeof next.value === "string" ? encoder.encode(next.value) : next.value,
        );}
    },
  });
}
