import assert from "node:assert/strict";
import { contentSecurityPolicy, createWebHandler } from "./web_server.ts";
import { endpointsFor, loadWebConfig } from "./web_config.ts";

const assets = {
  app: { script: new TextEncoder().encode("console.log('app')") },
  indexHtml: "<!doctype html><title>t</title>",
  stylesCss: "body{}",
};

Deno.test("the page finds each service on its port of the host the person typed", () => {
  const config = loadWebConfig({});
  assert.equal(config.port, 8080);
  const page = new URL("http://192.0.2.7:8080/");
  assert.deepEqual(endpointsFor(config, page).services.tasks, {
    rpc: "http://192.0.2.7:50052",
    http: "http://192.0.2.7:50052",
  });
  const ported = loadWebConfig({ USERS_PORT: "6001" });
  assert.equal(endpointsFor(ported, page).services.users.rpc, "http://192.0.2.7:6001");
  const ipv6 = endpointsFor(config, new URL("http://[::1]:8080/")).services.users.rpc;
  assert.equal(ipv6, "http://[::1]:50051");
});

Deno.test("behind the edge the RPCs are same-origin; fixed URLs win", () => {
  const edge = endpointsFor(loadWebConfig({ WEB_SAME_ORIGIN: "true" }), new URL("http://x/"));
  assert.deepEqual(edge.services.orchestrator, { rpc: "", http: "/services/orchestrator" });
  const fixed = loadWebConfig({ WEB_USERS_URL: "https://users.example.com/" });
  assert.deepEqual(endpointsFor(fixed, new URL("http://x/")).services.users, {
    rpc: "https://users.example.com",
    http: "https://users.example.com",
  });
  assert.throws(() => loadWebConfig({ WEB_TASKS_URL: "ftp://x" }), /WEB_TASKS_URL/);
  assert.throws(() => loadWebConfig({ WEB_PORT: "eighty" }), /WEB_PORT/);
});

Deno.test("config.json tells the page its safety-net reload (WEB_REFRESH_SECONDS)", () => {
  const page = new URL("http://x/");
  assert.deepEqual(endpointsFor(loadWebConfig({}), page).live, { refreshSeconds: 30 });
  const off = loadWebConfig({ WEB_REFRESH_SECONDS: "0" });
  assert.deepEqual(endpointsFor(off, page).live, { refreshSeconds: 0 });
  assert.throws(() => loadWebConfig({ WEB_REFRESH_SECONDS: "-1" }), /WEB_REFRESH_SECONDS/);
});

Deno.test("the server serves the page, its script, config.json, and 404s the rest", async () => {
  const handler = await createWebHandler(loadWebConfig({}), assets);
  const page = handler(new Request("http://localhost:8080/"));
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /text\/html/);
  assert.match(
    page.headers.get("content-security-policy")!,
    /connect-src 'self' http:\/\/localhost:50051/,
  );
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  const etag = page.headers.get("etag")!;
  assert.equal(
    handler(new Request("http://localhost:8080/", { headers: { "if-none-match": etag } })).status,
    304,
  );
  const script = handler(new Request("http://localhost:8080/app.js"));
  assert.equal(await script.text(), "console.log('app')");
  assert.match(script.headers.get("content-type")!, /javascript/);
  const config = await handler(new Request("http://localhost:8080/config.json")).json();
  assert.equal(config.services.users.rpc, "http://localhost:50051");
  assert.equal(handler(new Request("http://localhost:8080/nope")).status, 404);
  assert.equal(handler(new Request("http://localhost:8080/", { method: "POST" })).status, 405);
  assert.equal((await handler(new Request("http://localhost:8080/livez")).json()).status, "alive");
  assert.equal((await handler(new Request("http://localhost:8080/readyz")).json()).status, "ready");
});

Deno.test("the page's CSP lets it call its own origin only when behind the edge", () => {
  const csp = contentSecurityPolicy(
    loadWebConfig({ WEB_SAME_ORIGIN: "true" }),
    new URL("http://localhost:8080/"),
  );
  assert.match(csp, /connect-src 'self';/);
  assert.match(csp, /frame-ancestors 'none'/);
});
