import assert from "node:assert/strict";
import { resolveClientAddress } from "../server/client_address.ts";
import { ConfigError } from "./env.ts";
import { parseTrustedProxies } from "./trusted_proxies.ts";

Deno.test("trusted proxies: addresses and IPv4 networks", () => {
  const proxies = parseTrustedProxies("TRUSTED_PROXIES", ["10.0.0.0/8", "::1", "192.168.1.7"]);
  assert.ok(proxies.trusts("10.200.3.4"));
  assert.ok(proxies.trusts("::ffff:10.0.0.1"));
  assert.ok(proxies.trusts("::1"));
  assert.ok(proxies.trusts("192.168.1.7"));
  assert.ok(!proxies.trusts("192.168.1.8"));
  assert.ok(!proxies.trusts("11.0.0.1"));
  for (const bad of ["10.0.0.0/33", "not-an-ip", "1.2.3.4/8/1", "300.1.1.1"]) {
    assert.throws(() => parseTrustedProxies("TRUSTED_PROXIES", [bad]), ConfigError, bad);
  }
});

Deno.test("the client address is read from the right of X-Forwarded-For, past trusted hops", () => {
  const proxies = parseTrustedProxies("TRUSTED_PROXIES", ["10.0.0.0/8"]);
  const none = parseTrustedProxies("TRUSTED_PROXIES", []);
  assert.equal(
    resolveClientAddress("10.0.0.2", "198.51.100.1, 203.0.113.7", proxies),
    "203.0.113.7",
  );
  assert.equal(resolveClientAddress("10.0.0.2", "203.0.113.7, 10.0.0.9", proxies), "203.0.113.7");
  assert.equal(resolveClientAddress("203.0.113.9", "198.51.100.1", proxies), "203.0.113.9");
  assert.equal(resolveClientAddress("10.0.0.2", "198.51.100.1", none), "10.0.0.2");
  assert.equal(resolveClientAddress("10.0.0.2", null, proxies), "10.0.0.2");
});
