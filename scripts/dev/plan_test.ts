import assert from "node:assert/strict";
import { type Findings, planDependency } from "./plan.ts";

const nothing: Findings = { defaultPortAnswers: false, root: false, apt: true };

Deno.test("a URL in the environment wins, as before: nothing is started", () => {
  for (const name of ["postgres", "nats", "redis"] as const) {
    assert.deepEqual(
      planDependency(name, {
        ...nothing,
        envUrl: "x://h:1",
        defaultPortAnswers: true,
        program: "p",
      }),
      { kind: "environment", url: "x://h:1" },
    );
  }
});

Deno.test("a server answering on the default port is used, as before", () => {
  assert.deepEqual(planDependency("postgres", { ...nothing, defaultPortAnswers: true }), {
    kind: "running",
    port: 5432,
  });
  assert.deepEqual(planDependency("nats", { ...nothing, defaultPortAnswers: true }), {
    kind: "running",
    port: 4222,
  });
  assert.deepEqual(planDependency("redis", { ...nothing, defaultPortAnswers: true }), {
    kind: "running",
    port: 6379,
  });
});

Deno.test("otherwise the program found is started", () => {
  assert.deepEqual(planDependency("nats", { ...nothing, program: "/usr/sbin/nats-server" }), {
    kind: "start",
    program: "/usr/sbin/nats-server",
  });
});

Deno.test("nats-server missing: installed from Debian as root, else the one command to run", () => {
  assert.deepEqual(planDependency("nats", { ...nothing, root: true, apt: true }), {
    kind: "install",
    debianPackage: "nats-server",
  });
  const user = planDependency("nats", nothing);
  assert.equal(user.kind, "fail");
  assert.match(
    (user as { message: string }).message,
    /NATS_URL is not set, nothing answers on 127\.0\.0\.1:4222 and nats-server is not installed\. Install it with: sudo apt-get install nats-server/,
  );
  const notDebian = planDependency("nats", { ...nothing, root: true, apt: false });
  assert.equal(notDebian.kind, "fail");
  assert.match((notDebian as { message: string }).message, /nats-io\/nats-server\/releases/);
});

Deno.test("Redis missing is no failure: the User Service runs degraded", () => {
  const plan = planDependency("redis", { ...nothing, root: true });
  assert.equal(plan.kind, "without");
  assert.match((plan as { reason: string }).reason, /redis-server is not installed/);
});

Deno.test("no embedded PostgreSQL for this platform: the message says what to set", () => {
  const plan = planDependency("postgres", nothing);
  assert.equal(plan.kind, "fail");
  assert.match((plan as { message: string }).message, /Set DATABASE_URL/);
});
