/**
 * The PostgreSQL client survives losing its connection. Each scenario runs in a process of its
 * own, with the patched copy the services use (must behave) and with npm postgres@3.4.9 (the
 * reference: it crashes the process or strands the pool, which is why the copy is patched; see
 * lib/db/postgres_js/README.md).
 */
import assert from "node:assert/strict";
import { SCENARIOS } from "./postgres_client_scenarios.ts";

const script = new URL("./postgres_client_scenarios.ts", import.meta.url).pathname;

async function runScenario(copy: "patched" | "upstream", scenario: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script, copy, scenario],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, text };
}

for (const scenario of SCENARIOS) {
  Deno.test(`postgres client, ${scenario}: no crash, the pool answers again`, async () => {
    const [patched, upstream] = await Promise.all([
      runScenario("patched", scenario),
      runScenario("upstream", scenario),
    ]);
    assert.equal(patched.code, 0, `the patched client misbehaved:\n${patched.text}`);
    assert.notEqual(
      upstream.code,
      0,
      `npm postgres@3.4.9 no longer shows this defect; the patch may be obsolete:\n${upstream.text}`,
    );
    if (scenario === "types-query-fails") {
      assert.match(upstream.text, /Uncaught \(in promise\)/);
    } else if (scenario !== "cancelled-while-connecting" && scenario !== "terminated-mid-query") {
      assert.match(upstream.text, /Cannot read properties of null \(reading 'write'\)/);
    }
  });
}
