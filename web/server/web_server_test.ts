import assert from "node:assert/strict";
import { contentSecurityPolicy, createWebHandler } from "./web_server.ts";
import { endpointsFor, loadWebConfig } from "./web_config.ts";
import { resolveBase } from "../src/endpoints.ts";
import { bundleInMemory } from "./bundle.ts";

const assets = {
  app: { script: new TextEncoder().encode("console.log('app')") },
  indexHtml: "<!doctype html><title>t</title>",
  stylesCss: "body{}",
};

Deno.test("the page finds each service on its port of the host the person typed", () => {
  const config = loadWebConfig({});
  assert.equal(config.port, 8080);
  assert.deepEqual(endpointsFor(config).services.tasks, { rpc: ":50052", http: ":50052" });
  const ported = loadWebConfig({ USERS_PORT: "6001" });
  assert.equal(endpointsFor(ported).services.users.rpc, ":6001");
  // The page resolves `:port` against its own location.
  assert.equal(resolveBase(":50052", "http://192.0.2.7:8080/#/status"), "http://192.0.2.7:50052");
  assert.equal(resolveBase(":50051", "http://[::1]:8080/"), "http://[::1]:50051");
});

Deno.test("behind the edge the RPCs are same-origin; fixed URLs win", () => {
  const edge = endpointsFor(loadWebConfig({ WEB_SAME_ORIGIN: "true" }));
  assert.deepEqual(edge.services.orchestrator, { rpc: "", http: "/services/orchestrator" });
  const fixed = loadWebConfig({ WEB_USERS_URL: "https://users.example.com/" });
  assert.deepEqual(endpointsFor(fixed).services.users, {
    rpc: "https://users.example.com",
    http: "https://users.example.com",
  });
  assert.throws(() => loadWebConfig({ WEB_TASKS_URL: "ftp://x" }), /WEB_TASKS_URL/);
  assert.throws(() => loadWebConfig({ WEB_PORT: "eighty" }), /WEB_PORT/);
});

Deno.test("config.json tells the page its safety-net reload (WEB_REFRESH_SECONDS)", () => {
  assert.deepEqual(endpointsFor(loadWebConfig({})).live, { refreshSeconds: 30 });
  const off = loadWebConfig({ WEB_REFRESH_SECONDS: "0" });
  assert.deepEqual(endpointsFor(off).live, { refreshSeconds: 0 });
  assert.throws(() => loadWebConfig({ WEB_REFRESH_SECONDS: "-1" }), /WEB_REFRESH_SECONDS/);
});

Deno.test("the server serves the page, its script, config.json, and 404s the rest", async () => {
  const handler = await createWebHandler(loadWebConfig({}), assets);
  const page = handler(new Request("http://localhost:8080/"));
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /text\/html/);
  assert.match(
    page.headers.get("content-security-policy")!,
    /connect-src 'self' \*:50051 \*:50052 \*:50053;/,
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
  assert.equal(config.services.users.rpc, ":50051");
  assert.equal(handler(new Request("http://localhost:8080/nope")).status, 404);
  assert.equal(handler(new Request("http://localhost:8080/", { method: "POST" })).status, 405);
  assert.equal((await handler(new Request("http://localhost:8080/livez")).json()).status, "alive");
  assert.equal((await handler(new Request("http://localhost:8080/readyz")).json()).status, "ready");
});

Deno.test("the page's CSP lets it call its own origin only when behind the edge", () => {
  const csp = contentSecurityPolicy(loadWebConfig({ WEB_SAME_ORIGIN: "true" }));
  assert.match(csp, /connect-src 'self';/);
  assert.match(csp, /frame-ancestors 'none'/);
});

Deno.test("a malformed Host is answered 400, and no Host ever reaches the CSP or config.json", async () => {
  const handler = await createWebHandler(loadWebConfig({}), assets);
  const errors: unknown[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: (error) => {
      errors.push(error);
      return new Response("internal", { status: 500 });
    },
  }, handler);
  const port = server.addr.port;
  const raw = async (host: string, path = "/") => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    conn.close();
    return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  };
  try {
    for (const host of ["exa mple.com", "[::1", "a:b:c", "evil.example:99999"]) {
      const answer = await raw(host);
      assert.match(answer, /^HTTP\/1\.1 400 /, `${host}: ${answer.slice(0, 80)}`);
      assert.match(answer, /malformed Host header/);
    }
    const page = await raw("attacker.example:8080");
    assert.match(page, /^HTTP\/1\.1 200 /);
    assert.ok(!page.includes("attacker"), page);
    const config = await raw("attacker.example:8080", "/config.json");
    assert.ok(!config.includes("attacker"), config);
    assert.deepEqual(errors, []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("no source map by default: the bundle names none and /app.js.map is 404", async () => {
  const app = await bundleInMemory();
  assert.equal(app.sourceMap, undefined);
  assert.ok(!new TextDecoder().decode(app.script).includes("sourceMappingURL"));
  const handler = await createWebHandler(loadWebConfig({}), { ...assets, app });
  assert.equal(handler(new Request("http://localhost:8080/app.js.map")).status, 404);
  assert.equal(loadWebConfig({ WEB_SOURCE_MAPS: "true" }).sourceMaps, true);
});
