import assert from "node:assert/strict";
import type { CorsConfig } from "../config/cors_config.ts";
import { isSameOrigin, withCors } from "./cors.ts";

const APP = "http://localhost:8080";
const LISTED: CorsConfig = { origins: [APP], anyOrigin: false };
const info = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  completed: Promise.resolve(),
} as Deno.ServeHandlerInfo;

/** A handler that counts its calls and answers like a unary Connect error would. */
function counting() {
  const seen: Request[] = [];
  const handler = (req: Request) => {
    seen.push(req);
    return Response.json({ code: "unauthenticated" }, {
      status: 401,
      headers: { "grpc-status": "16" },
    });
  };
  return { seen, handler };
}

function rpc(origin: string | undefined, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (origin) headers.set("origin", origin);
  headers.set("host", "localhost:50051");
  return new Request("http://localhost:50051/platform.users.v1.UserService/Login", {
    method: "POST",
    body: "{}",
    ...init,
    headers,
  });
}

function preflight(origin: string) {
  return rpc(origin, {
    method: "OPTIONS",
    body: null,
    headers: {
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version,authorization",
    },
  });
}

Deno.test("an allowed origin's preflight gets Connect's and gRPC-web's methods and headers", async () => {
  const { seen, handler } = counting();
  const res = await withCors(LISTED, handler)(preflight(APP), info);
  assert.equal(res.status, 204);
  assert.equal(seen.length, 0, "a preflight never reaches the RPC handler");
  const h = res.headers;
  assert.equal(h.get("access-control-allow-origin"), APP);
  assert.equal(h.get("access-control-allow-credentials"), "true");
  assert.deepEqual(h.get("access-control-allow-methods")?.split(", "), ["POST", "GET"]);
  const allowed = h.get("access-control-allow-headers")!.toLowerCase().split(", ");
  for (
    const name of [
      "content-type",
      "connect-protocol-version",
      "connect-timeout-ms",
      "x-grpc-web",
      "x-user-agent",
      "grpc-timeout",
      "authorization",
    ]
  ) {
    assert.ok(allowed.includes(name), `allows ${name}`);
  }
  assert.ok(Number(h.get("access-control-max-age")) > 0);
  assert.match(h.get("vary") ?? "", /Origin/);
});

Deno.test("an allowed origin's response exposes grpc-status, grpc-message and friends", async () => {
  const { seen, handler } = counting();
  const res = await withCors(LISTED, handler)(rpc(APP), info);
  assert.equal(seen.length, 1);
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
  assert.equal(res.headers.get("access-control-allow-credentials"), "true");
  const exposed = res.headers.get("access-control-expose-headers")!.toLowerCase().split(", ");
  for (const name of ["grpc-status", "grpc-message", "grpc-status-details-bin", "content-length"]) {
    assert.ok(exposed.includes(name), `exposes ${name}`);
  }
  assert.match(res.headers.get("vary") ?? "", /Origin/);
  assert.equal(res.headers.get("grpc-status"), "16", "the handler's own headers stay");
});

Deno.test("a disallowed origin gets no CORS headers and the call never runs", async () => {
  const { seen, handler } = counting();
  const wrapped = withCors(LISTED, handler);
  for (const req of [preflight("http://evil.example"), rpc("http://evil.example"), rpc("null")]) {
    const res = await wrapped(req, info);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /CORS_ORIGINS/);
    for (const [name] of res.headers) assert.ok(!name.startsWith("access-control-"), name);
  }
  assert.equal(seen.length, 0);
});

Deno.test("with no origins configured every cross-origin browser call is refused", async () => {
  const { seen, handler } = counting();
  const res = await withCors({ origins: [], anyOrigin: false }, handler)(rpc(APP), info);
  assert.equal(res.status, 403);
  assert.equal(seen.length, 0);
});

Deno.test("requests without Origin and same-origin requests pass untouched", async () => {
  const { seen, handler } = counting();
  const wrapped = withCors({ origins: [], anyOrigin: false }, handler);
  const plain = await wrapped(rpc(undefined), info);
  const same = await wrapped(rpc("http://localhost:50051"), info);
  assert.equal(seen.length, 2);
  for (const res of [plain, same]) {
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  }
  assert.equal(isSameOrigin("http://api.example.com", rpc(undefined)), false);
  assert.equal(isSameOrigin("http://LOCALHOST:50051", rpc(undefined)), true);
});

Deno.test("behind a proxy that rewrites Host: X-Forwarded-Host counts only when trusted", async () => {
  // nginx's default: Host is the upstream's name, the browser's host only in X-Forwarded-Host.
  const proxied = () => {
    const req = rpc("http://app.example.com");
    req.headers.set("host", "userservice:50051");
    req.headers.set("x-forwarded-host", "app.example.com, edge.internal");
    return req;
  };
  const { seen, handler } = counting();
  const refused = await withCors({ origins: [], anyOrigin: false }, handler)(proxied(), info);
  assert.equal(refused.status, 403);
  assert.equal(seen.length, 0);
  const trusted = withCors({ origins: [], anyOrigin: false, trustForwardedHost: true }, handler);
  const passed = await trusted(proxied(), info);
  assert.equal(seen.length, 1);
  assert.equal(passed.headers.get("access-control-allow-origin"), null);
  // Another origin with the same headers is still another origin.
  const other = proxied();
  other.headers.set("origin", "http://evil.example");
  assert.equal((await trusted(other, info)).status, 403);
  assert.equal(isSameOrigin("http://app.example.com", proxied(), true), true);
  assert.equal(isSameOrigin("http://app.example.com", proxied(), false), false);
});

Deno.test("a wildcard allows any origin, never with credentials", async () => {
  const { handler } = counting();
  const wrapped = withCors({ origins: [], anyOrigin: true }, handler);
  for (const req of [preflight("http://anywhere.example"), rpc("http://anywhere.example")]) {
    const res = await wrapped(req, info);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
  }
});

Deno.test("headers are added to a response whose headers are immutable", async () => {
  const res = await withCors(LISTED, () => Response.redirect("http://localhost:8080/", 302))(
    rpc(APP),
    info,
  );
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "http://localhost:8080/");
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
});
