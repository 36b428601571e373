import assert from "node:assert/strict";
import {
  DEFAULT_PARAMS,
  EMPTY_STATS,
  fairnessFactor,
  isEligible,
  loadFactor,
  rateFit,
  scoreCandidate,
  skillCoverage,
  trackRecord,
} from "./scoring.ts";
import { selectCandidates } from "./select_candidates.ts";

Deno.test("skill coverage counts required tags offered, case-insensitively", () => {
  assert.equal(skillCoverage(["go", "sql"], ["SQL", "rust"]), 0.5);
  assert.equal(skillCoverage(["go", "Go ", "sql"], ["go", "sql"]), 1);
  assert.equal(skillCoverage([], ["go"]), 1);
  assert.equal(skillCoverage(["go"], []), 0);
});

Deno.test("track record is smoothed: newcomers 0.5, acceptances raise it, declines lower it", () => {
  assert.equal(trackRecord(EMPTY_STATS), 0.5);
  assert.ok(trackRecord({ ...EMPTY_STATS, accepted: 4 }) > 0.8);
  assert.ok(trackRecord({ ...EMPTY_STATS, declined: 2, expired: 2 }) < 0.2);
});

Deno.test("rate fit compares the budget with the reference hours at the rate", () => {
  const usd = (n: number) => ({ currency: "USD", amountMinor: n });
  assert.equal(rateFit(usd(50_000), usd(10_000), 10), 0.5);
  assert.equal(rateFit(usd(500_000), usd(10_000), 10), 1);
  assert.equal(rateFit(undefined, usd(10_000), 10), 0.5);
  assert.equal(rateFit(usd(1000), { currency: "EUR", amountMinor: 10 }, 10), 0.5);
  assert.equal(rateFit(usd(1000), usd(0), 10), 1);
});

Deno.test("load and fairness shrink with open and recent proposals", () => {
  assert.equal(loadFactor(0), 1);
  assert.equal(loadFactor(3), 0.25);
  assert.equal(fairnessFactor(0, 20), 1);
  assert.equal(fairnessFactor(5, 20), 0.75);
  assert.equal(fairnessFactor(40, 20), 0);
});

Deno.test("eligibility: enough skill coverage and under the fairness cap", () => {
  const task = { requiredSkills: ["go", "sql"] };
  const dev = { developerId: "d", skillTags: ["go"] };
  assert.equal(isEligible(task, dev, EMPTY_STATS, DEFAULT_PARAMS), true);
  assert.equal(
    isEligible(task, dev, EMPTY_STATS, { ...DEFAULT_PARAMS, minSkillCoverage: 0.9 }),
    false,
  );
  assert.equal(
    isEligible(task, { developerId: "d", skillTags: ["rust"] }, EMPTY_STATS, {
      ...DEFAULT_PARAMS,
      minSkillCoverage: 0,
    }),
    false,
  );
  assert.equal(isEligible(task, dev, { ...EMPTY_STATS, recent: 20 }, DEFAULT_PARAMS), false);
  assert.equal(isEligible({ requiredSkills: [] }, dev, EMPTY_STATS, DEFAULT_PARAMS), true);
});

Deno.test("score is the weighted mean of the components, in [0, 1]", () => {
  const task = { requiredSkills: ["go"], budget: { currency: "USD", amountMinor: 100_000 } };
  const dev = {
    developerId: "d",
    skillTags: ["go"],
    hourlyRate: { currency: "USD", amountMinor: 10_000 },
  };
  const best = scoreCandidate(task, dev, EMPTY_STATS, DEFAULT_PARAMS);
  // skill 1, track .5, rate 1, load 1, fairness 1 => (.4 + .1 + .15 + .15 + .1) / 1
  assert.ok(Math.abs(best.score - 0.9) < 1e-9);
  const onlySkill = scoreCandidate(task, dev, { ...EMPTY_STATS, open: 3 }, {
    ...DEFAULT_PARAMS,
    weights: { skill: 1, trackRecord: 0, rate: 0, load: 0, fairness: 0 },
  });
  assert.equal(onlySkill.score, 1);
  const loaded = scoreCandidate(task, dev, { ...EMPTY_STATS, open: 3, recent: 10 }, DEFAULT_PARAMS);
  assert.ok(loaded.score < best.score);
});

Deno.test("selection ranks, filters, excludes and takes the top N deterministically", () => {
  const task = { requiredSkills: ["go", "sql"] };
  const candidates = [
    { developerId: "a", skillTags: ["go"] },
    { developerId: "b", skillTags: ["go", "sql"] },
    { developerId: "c", skillTags: ["go", "sql"] },
    { developerId: "d", skillTags: ["rust"] },
    { developerId: "e", skillTags: ["go", "sql"] },
    { developerId: "b", skillTags: ["go", "sql"] }, // duplicate
  ];
  const stats = new Map([
    ["c", { ...EMPTY_STATS, open: 5 }],
    ["e", { ...EMPTY_STATS, recent: 99 }], // over the fairness cap
  ]);
  const top = selectCandidates({
    task,
    candidates,
    stats,
    exclude: new Set(["x"]),
    limit: 3,
    params: DEFAULT_PARAMS,
  });
  assert.deepEqual(top.map((r) => r.candidate.developerId), ["b", "c", "a"]);
  const excluded = selectCandidates({
    task,
    candidates,
    stats,
    exclude: new Set(["b"]),
    limit: 1,
    params: DEFAULT_PARAMS,
  });
  assert.deepEqual(excluded.map((r) => r.candidate.developerId), ["c"]);
  assert.deepEqual(
    selectCandidates({
      task,
      candidates,
      stats,
      exclude: new Set(),
      limit: 0,
      params: DEFAULT_PARAMS,
    }),
    [],
  );
});

Deno.test("ties break by lower load, then by id", () => {
  const task = { requiredSkills: ["go"] };
  const candidates = [
    { developerId: "z", skillTags: ["go"] },
    { developerId: "m", skillTags: ["go"] },
  ];
  const top = selectCandidates({
    task,
    candidates,
    stats: new Map(),
    exclude: new Set(),
    limit: 2,
    params: DEFAULT_PARAMS,
  });
  assert.deepEqual(top.map((r) => r.candidate.developerId), ["m", "z"]);
});
