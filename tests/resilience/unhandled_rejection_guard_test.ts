/**
 * The last line of defence: a service counts and logs an unhandled rejection (with its stack)
 * instead of dying from it. Run in a process of its own, as a rejection nobody handles would
 * otherwise end the test runner too.
 */
import assert from "node:assert/strict";

const program = `
import { guardUnhandledRejections, registerUnhandledRejectionMetric } from "@platform/lib/server";
import { Metrics } from "@platform/lib/metrics";
guardUnhandledRejections("guard-test");
const metrics = new Metrics();
Promise.reject(Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), { code: "CONNECTION_CLOSED" }));
await new Promise((r) => setTimeout(r, 50));
registerUnhandledRejectionMetric(metrics); // counts the one before it was registered
Promise.reject(new Error("second"));
await new Promise((r) => setTimeout(r, 50));
console.log((await metrics.registry.metrics()).split("\\n").filter((l) => l.startsWith("process_unhandled")).join("\\n"));
console.log("still alive");
`;

Deno.test("an unhandled rejection is counted and logged with its stack; the process lives on", async () => {
  const file = await Deno.makeTempFile({
    dir: new URL(".", import.meta.url).pathname,
    suffix: ".ts",
  });
  try {
    await Deno.writeTextFile(file, program);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.match(stdout, /process_unhandled_rejections_total 2/);
    assert.match(stdout, /still alive/);
    const lines = stderr.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.equal(lines[0].msg, "unhandled rejection");
    assert.equal(lines[0].code, "CONNECTION_CLOSED");
    assert.match(lines[0].stack, /CONNECTION_CLOSED/);
    assert.equal(lines[1].total, 2);
  } finally {
    await Deno.remove(file);
  }
});
