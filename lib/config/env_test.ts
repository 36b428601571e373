import assert from "node:assert/strict";
import { loadBaseConfig } from "./base_config.ts";
import { ConfigError, EnvReader, redactUrl } from "./env.ts";

Deno.test("defaults follow the manual", () => {
  const config = loadBaseConfig("users", 50051, {});
  assert.equal(config.port, 50051);
  assert.equal(config.pool.maxConnections, 25);
  assert.equal(config.pool.maxLifetimeSeconds, 3600);
  assert.equal(config.pool.idleTimeoutSeconds, 1800);
  assert.equal(config.maxMessageBytes, 4 * 1024 * 1024);
  assert.ok(config.usingDevelopmentSecret);
});

Deno.test("a bad value names the variable", () => {
  assert.throws(() => loadBaseConfig("users", 50051, { PORT: "http" }), (e: ConfigError) => {
    assert.equal(e.variable, "PORT");
    assert.match(e.message, /^PORT="http" is invalid/);
    return true;
  });
  assert.throws(() => loadBaseConfig("x", 1, { DATABASE_URL: "mysql://x" }), /DATABASE_URL/);
  assert.throws(() => loadBaseConfig("x", 1, { JWT_SECRETS: "short" }), /JWT_SECRETS/);
  assert.throws(() => loadBaseConfig("x", 1, { LOG_LEVEL: "loud" }), /LOG_LEVEL/);
  assert.throws(() => loadBaseConfig("x", 1, { TLS_CERT_FILE: "/a" }), /TLS_KEY_FILE/);
});

Deno.test("secrets never appear in config errors", () => {
  assert.throws(
    () => loadBaseConfig("x", 1, { DATABASE_URL: "mysql://u:hunter2@db/x" }),
    (e: Error) => !e.message.includes("hunter2"),
  );
  assert.equal(redactUrl("postgres://app:hunter2@db/x"), "postgres://app:***@db/x");
  assert.equal(redactUrl("nats://s3cr3ttoken@nats:4222"), "nats://***@nats:4222");
  assert.equal(
    redactUrl("nats://u:p1@a:4222,nats://u:p2@b:4222"),
    "nats://u:***@a:4222,nats://u:***@b:4222",
  );
  assert.ok(!redactUrl("postgres://db/x?password=hunter2").includes("hunter2"));
});

Deno.test("JWT_SECRETS is a list: the first signs, all verify", () => {
  const a = "a".repeat(32);
  const b = "b".repeat(32);
  assert.deepEqual(loadBaseConfig("x", 1, { JWT_SECRETS: ` ${a} , ${b} ` }).jwtSecrets, [a, b]);
});

Deno.test("EnvReader bounds integers and parses booleans", () => {
  const env = new EnvReader({ N: "5", B: "yes" });
  assert.equal(env.int("N", 1, { min: 1, max: 10 }), 5);
  assert.throws(() => env.int("N", 1, { max: 4 }), ConfigError);
  assert.equal(env.bool("B", false), true);
  assert.equal(env.int("MISSING", 7), 7);
});

Deno.test("a malformed URL's error shows none of its password (issue 15)", () => {
  // Not a URL (bad port), and the password holds '@' and ':': all of it stays hidden.
  assert.throws(
    () => loadBaseConfig("x", 1, { DATABASE_URL: "postgres://app:s3cr@t:pa55@db:54x2/x" }),
    (e: ConfigError) => {
      assert.equal(e.variable, "DATABASE_URL");
      for (const part of ["s3cr", "t:pa55", "pa55"]) {
        assert.ok(!e.message.includes(part), e.message);
      }
      return true;
    },
  );
  assert.ok(!redactUrl("postgres://app:pw,with,commas@db/x").includes("with"));
});

Deno.test("a scheme-less URL's error does not echo its credentials (issue 15)", () => {
  assert.throws(
    () => loadBaseConfig("x", 1, { REDIS_URL: "default:hunter2secret@redis:6379" }),
    (e: ConfigError) => {
      assert.equal(e.variable, "REDIS_URL");
      assert.ok(!e.message.includes("hunter2secret"), e.message);
      return true;
    },
  );
  assert.ok(!redactUrl(":hunter2secret@redis:6379").includes("hunter2secret"));
});

Deno.test("NATS_URL takes a comma-separated list of servers (a cluster)", () => {
  const config = loadBaseConfig("x", 1, {
    NATS_URL: "nats://127.0.0.1:4222, nats://127.0.0.1:4223,nats://127.0.0.1:4224",
    NATS_STREAM_REPLICAS: "3",
  });
  assert.equal(
    config.natsUrl,
    "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224",
  );
  assert.equal(config.natsStreamReplicas, 3);
  assert.throws(() => loadBaseConfig("x", 1, { NATS_URL: "nats://a:1,http://b:2" }), /NATS_URL/);
  assert.throws(
    () => loadBaseConfig("x", 1, { NATS_STREAM_REPLICAS: "0" }),
    /NATS_STREAM_REPLICAS/,
  );
});

Deno.test("pool warm minimum and health check period follow the manual", () => {
  const config = loadBaseConfig("x", 1, {});
  assert.equal(config.pool.minConnections, 5);
  assert.equal(config.pool.healthCheckPeriodSeconds, 300);
  assert.equal(loadBaseConfig("x", 1, { DB_MAX_CONNS: "2" }).pool.minConnections, 2);
  assert.throws(
    () => loadBaseConfig("x", 1, { DB_MAX_CONNS: "4", DB_MIN_CONNS: "5" }),
    /DB_MIN_CONNS/,
  );
});

Deno.test("no config error or log shows any part of a password, whatever the URL's shape (issue 21)", () => {
  const cases: Array<[string, string, string[]]> = [
    ["DATABASE_URL", "postgres://u:p@ss#fRg@host/db", ["p@ss", "ss#", "fRg"]],
    ["DATABASE_URL", "postgres://u:p@ss...#fRg", ["ss...", "fRg"]],
    ["DATABASE_URL", "postgres://u:p@ss.../db", ["ss..."]],
    ["DATABASE_URL", "postgres://u:p#ss@host/db", ["p#ss", "#ss"]],
    ["DATABASE_URL", "postgres://u:pa/ss@host/db", ["pa/ss", "ss@"]],
    ["DATABASE_URL", "postgres://u:p@ss@host/db", ["p@ss", "ss@"]],
    ["REDIS_URL", "redis://:s3cr#et@redis:6379", ["s3cr", "et@"]],
    ["REDIS_URL", "redis://default:p@ss#w@redis:6379/0", ["p@ss", "ss#w"]],
    ["REDIS_URL", "rediss://u:p@ss...#fRg", ["ss...", "fRg"]],
    ["NATS_URL", "nats://a:4222,nats://u:p@ss#x@b:4222", ["p@ss", "ss#x"]],
  ];
  for (const [variable, value, secrets] of cases) {
    assert.throws(
      () => loadBaseConfig("x", 1, { [variable]: value }),
      (e: ConfigError) => {
        assert.equal(e.variable, variable);
        for (const part of secrets) assert.ok(!e.message.includes(part), `${value}: ${e.message}`);
        return true;
      },
      value,
    );
    for (const part of secrets) assert.ok(!redactUrl(value).includes(part), redactUrl(value));
  }
  // Encoded, the same passwords are fine and redacted in logs.
  const ok = loadBaseConfig("x", 1, { DATABASE_URL: "postgres://u:p%40ss%23frag@host/db" });
  assert.equal(redactUrl(ok.databaseUrl), "postgres://u:***@host/db");
});
