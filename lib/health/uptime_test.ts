import assert from "node:assert/strict";
import { formatGoDuration } from "./uptime.ts";

Deno.test("formatGoDuration prints Go's duration form", () => {
  assert.equal(formatGoDuration(0), "0s");
  assert.equal(formatGoDuration(999), "0s");
  assert.equal(formatGoDuration(15_000), "15s");
  assert.equal(formatGoDuration(60_000), "1m0s");
  assert.equal(formatGoDuration(3_600_000), "1h0m0s");
  assert.equal(formatGoDuration((72 * 3600 + 30 * 60 + 15) * 1000), "72h30m15s");
  assert.equal(formatGoDuration(-5), "0s");
});
