import assert from "node:assert/strict";
import { loadBaseConfig } from "./base_config.ts";
import { loadCorsConfig } from "./cors_config.ts";
import type { ConfigError } from "./env.ts";

const SECRET = "a-production-secret-that-is-long-enough-0123";

Deno.test("CORS_ORIGINS unset: the web app's own origin in development, nothing in production", () => {
  assert.deepEqual(loadBaseConfig("users", 50051, {}).cors, {
    origins: ["http://localhost:8080", "http://127.0.0.1:8080"],
    anyOrigin: false,
    trustForwardedHost: false,
  });
  assert.deepEqual(loadBaseConfig("users", 50051, { WEB_PORT: "9090" }).cors.origins, [
    "http://localhost:9090",
    "http://127.0.0.1:9090",
  ]);
  assert.deepEqual(loadBaseConfig("users", 50051, { JWT_SECRETS: SECRET }).cors, {
    origins: [],
    anyOrigin: false,
    trustForwardedHost: false,
  });
});

Deno.test("CORS_ORIGINS lists origins, normalised, duplicates dropped", () => {
  const cors = loadCorsConfig({
    CORS_ORIGINS: "https://App.Example.com/, http://localhost:3000 ,https://app.example.com",
  }, false);
  assert.deepEqual(cors, {
    origins: ["https://app.example.com", "http://localhost:3000"],
    anyOrigin: false,
    trustForwardedHost: false,
  });
  assert.deepEqual(loadCorsConfig({ CORS_ORIGINS: "https://x.example:443" }, false).origins, [
    "https://x.example",
  ]);
});

Deno.test("CORS_ORIGINS=* allows any origin (and the layer never adds credentials to it)", () => {
  assert.deepEqual(loadCorsConfig({ CORS_ORIGINS: "*" }, true), {
    origins: [],
    anyOrigin: true,
    trustForwardedHost: false,
  });
  assert.equal(
    loadCorsConfig({ CORS_TRUST_FORWARDED_HOST: "true" }, false).trustForwardedHost,
    true,
  );
});

Deno.test("a bad CORS_ORIGINS stops the start with a message naming the variable", () => {
  for (
    const value of [
      "app.example.com",
      "ftp://files.example.com",
      "https://app.example.com/path",
      "https://app.example.com?x=1",
      "https://user:pw@app.example.com",
      "*,https://app.example.com",
    ]
  ) {
    assert.throws(
      () => loadBaseConfig("users", 50051, { CORS_ORIGINS: value }),
      (e: ConfigError) => {
        assert.equal(e.variable, "CORS_ORIGINS", value);
        return true;
      },
      value,
    );
  }
  assert.throws(() => loadBaseConfig("users", 50051, { WEB_PORT: "http" }), /WEB_PORT/);
});
