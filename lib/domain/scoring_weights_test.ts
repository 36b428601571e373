/** The default score weights. No servers. */
import assert from "node:assert/strict";
import { DEFAULT_SCORING_WEIGHTS } from "./scoring_weights.ts";

Deno.test("the default weights are the documented ones, sum to 1 and cannot be changed", () => {
  assert.deepEqual({ ...DEFAULT_SCORING_WEIGHTS }, {
    skill: 0.4,
    trackRecord: 0.2,
    rate: 0.15,
    load: 0.15,
    fairness: 0.1,
  });
  const sum = Object.values(DEFAULT_SCORING_WEIGHTS).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-9);
  assert.throws(() => {
    (DEFAULT_SCORING_WEIGHTS as { skill: number }).skill = 1;
  });
});
