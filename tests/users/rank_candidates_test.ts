/**
 * RankCandidates against a real User Service and PostgreSQL:
 *
 * - differential: on a seeded corpus (skills drawn Zipf-like from 30 tags, rates log-spread, some
 *   offline, some without a rate or in another currency), the SQL ranking returns exactly the
 *   top N that the matcher's pure scoring (services/orchestrator/matching) picks from all online
 *   developers with no history, in the same order with the same scores, over many random tasks,
 *   weights and exclusions;
 * - bad input gets invalid_argument naming the field; callers other than services and admins get
 *   unauthenticated (no token) or permission_denied (clients, developers).
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import postgres from "postgres";
import { UserService } from "@platform/proto/users/v1";
import { TokenService } from "../../lib/auth/tokens.ts";
import {
  type CandidateProfile,
  DEFAULT_PARAMS,
  type ScoringParams,
} from "../../services/orchestrator/matching/scoring.ts";
import { selectCandidates } from "../../services/orchestrator/matching/select_candidates.ts";
import { rpcClient } from "../harness/rpc_clients.ts";
import { seededRandom, zipfSkills } from "../harness/seeded_corpus.ts";
import { signUp, startUsersEnv, TEST_SECRET } from "./users_env.ts";

const env = await startUsersEnv();
const url = env.users.url;
const sql = postgres(env.databaseUrl, { max: 2, onnotice: () => {} });
const opts = { sanitizeOps: false, sanitizeResources: false };
const { token: serviceToken } = await new TokenService([TEST_SECRET], 600).issueServiceToken(
  "orchestrator",
);
const service = rpcClient(
  UserService,
  url,
  { protocol: "connect", http: "1.1", binary: true },
  serviceToken,
);

const random = seededRandom(7);
const tags = zipfSkills(random, Array.from({ length: 30 }, (_, i) => `t${i}`), 1);

// The corpus: 400 developers, ~60% online; rates on a few round values so that scores tie often.
const corpus = Array.from({ length: 400 }, () => {
  const r = random();
  return {
    skills: tags(1, 5),
    rate: r < 0.1
      ? null
      : r < 0.15
      ? 0
      : [2500, 5000, 7500, 10_000, 12_345][Math.floor(random() * 5)],
    currency: random() < 0.1 ? "EUR" : "USD",
    online: random() < 0.6,
  };
});
await sql`
  INSERT INTO users (email, password_hash, role, display_name, skill_tags, hourly_rate_minor,
                     rate_currency, is_online, online_until, last_seen_at)
  SELECT 'rank' || i || '@example.com', 'x', 'developer', 'd' || i, s::jsonb, r::int8, c, o,
         CASE WHEN o THEN now() + interval '1 hour' END, now()
  FROM unnest(${corpus.map((_, i) => i)}::int[], ${
  corpus.map((d) => JSON.stringify(d.skills))
}::text[],
              ${corpus.map((d) => d.rate === null ? null : String(d.rate))}::text[], ${
  corpus.map((d) => d.currency)
}::text[],
              ${corpus.map((d) => String(d.online))}::text[]) AS t(i, s, r, c, ot)
  CROSS JOIN LATERAL (SELECT ot::bool AS o) b`;
const online: CandidateProfile[] = (await sql<
  { id: string; skill_tags: string[]; hourly_rate_minor: string | null; rate_currency: string }[]
>`
  SELECT id, skill_tags, hourly_rate_minor::text, rate_currency FROM users
  WHERE role = 'developer' AND is_online AND online_until > now()`).map((r) => ({
  developerId: r.id,
  skillTags: r.skill_tags,
  hourlyRate: r.hourly_rate_minor !== null
    ? { currency: r.rate_currency, amountMinor: Number(r.hourly_rate_minor) }
    : undefined,
}));

Deno.test(
  "the SQL ranking agrees with the matcher's pure scoring (same top N, same order)",
  opts,
  async () => {
    let compared = 0;
    for (let round = 0; round < 150; round++) {
      const skills = round % 25 === 0 ? [] : tags(1, 4);
      const budget = random() < 0.2 ? undefined : {
        currency: random() < 0.1 ? "EUR" : "USD",
        amountMinor: [10_000, 50_000, 100_000, 333_333][Math.floor(random() * 4)],
      };
      const params: ScoringParams = {
        ...DEFAULT_PARAMS,
        minSkillCoverage: [0, 0.34, 0.5, 1][Math.floor(random() * 4)],
        rateReferenceHours: [1, 7.5, 10][Math.floor(random() * 3)],
        weights: round % 3 === 0 ? DEFAULT_PARAMS.weights : {
          skill: Math.round(random() * 100) / 100,
          trackRecord: Math.round(random() * 100) / 100,
          rate: Math.round(random() * 100) / 100,
          load: Math.round(random() * 100) / 100,
          fairness: 0.05,
        },
      };
      const exclude = online.filter(() => random() < 0.1).map((c) => c.developerId);
      const limit = [1, 3, 20][round % 3];
      const expected = selectCandidates({
        task: { requiredSkills: skills, budget },
        candidates: online,
        stats: new Map(),
        exclude: new Set(exclude),
        limit,
        params,
      });
      const res = await service.rankCandidates({
        skillTags: skills,
        budget: budget
          ? { currency: budget.currency, amountMinor: BigInt(budget.amountMinor) }
          : undefined,
        minSkillCoverage: params.minSkillCoverage,
        rateReferenceHours: params.rateReferenceHours,
        weights: params.weights,
        excludeIds: exclude,
        limit,
      });
      assert.deepEqual(
        res.candidates.map((c) => [c.developerId, c.baseScore]),
        expected.map((e) => [e.candidate.developerId, e.breakdown.score]),
        `round ${round}: skills ${skills} budget ${JSON.stringify(budget)} params ${
          JSON.stringify(params)
        }`,
      );
      for (const c of res.candidates) {
        const e = expected.find((x) => x.candidate.developerId === c.developerId)!;
        assert.equal(c.skillCoverage, e.breakdown.skill);
        assert.deepEqual([...c.skillTags], [...e.candidate.skillTags]);
      }
      compared += res.candidates.length;
    }
    assert.ok(compared > 500, `only ${compared} candidates compared`);
  },
);

async function expectCode(call: Promise<unknown>, code: Code, field?: RegExp) {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ConnectError, `not a ConnectError: ${error}`);
    assert.equal(Code[error.code], Code[code], error.message);
    if (field) assert.match(error.rawMessage, field);
    return true;
  });
}

Deno.test("bad RankCandidates input is invalid_argument naming the field", opts, async () => {
  const ok = { skillTags: ["t1"], minSkillCoverage: 0.5, excludeIds: [], limit: 5 };
  await expectCode(service.rankCandidates({ ...ok, limit: -1 }), Code.InvalidArgument, /^limit/);
  await expectCode(service.rankCandidates({ ...ok, limit: 201 }), Code.InvalidArgument, /^limit/);
  await expectCode(
    service.rankCandidates({ ...ok, excludeIds: ["not-a-uuid"] }),
    Code.InvalidArgument,
    /^exclude_ids\[0\]/,
  );
  await expectCode(
    service.rankCandidates({
      ...ok,
      excludeIds: Array.from({ length: 1001 }, () => crypto.randomUUID()),
    }),
    Code.InvalidArgument,
    /^exclude_ids/,
  );
  await expectCode(
    service.rankCandidates({ ...ok, minSkillCoverage: 1.5 }),
    Code.InvalidArgument,
    /^min_skill_coverage/,
  );
  await expectCode(
    service.rankCandidates({ ...ok, minSkillCoverage: Number.NaN }),
    Code.InvalidArgument,
    /^min_skill_coverage/,
  );
  await expectCode(
    service.rankCandidates({ ...ok, rateReferenceHours: -1 }),
    Code.InvalidArgument,
    /^rate_reference_hours/,
  );
  await expectCode(
    service.rankCandidates({
      ...ok,
      weights: { skill: -1, trackRecord: 0, rate: 0, load: 0, fairness: 0 },
    }),
    Code.InvalidArgument,
    /^weights\.skill/,
  );
  await expectCode(
    service.rankCandidates({
      ...ok,
      weights: { skill: 0, trackRecord: 0, rate: 0, load: 0, fairness: 0 },
    }),
    Code.InvalidArgument,
    /^weights/,
  );
  await expectCode(
    service.rankCandidates({ ...ok, budget: { currency: "XXX", amountMinor: 5n } }),
    Code.InvalidArgument,
    /^budget\.currency/,
  );
  await expectCode(
    service.rankCandidates({ ...ok, budget: { currency: "USD", amountMinor: -5n } }),
    Code.InvalidArgument,
    /^budget\.amount_minor/,
  );
  await expectCode(
    service.rankCandidates({ ...ok, skillTags: ["bad tag!"] }),
    Code.InvalidArgument,
    /^skill_tags/,
  );
  await expectCode(
    service.rankCandidates({ ...ok, skillTags: Array.from({ length: 51 }, (_, i) => `s${i}`) }),
    Code.InvalidArgument,
    /^skill_tags/,
  );
  // The service is still up and answers a good request.
  const res = await service.rankCandidates(ok);
  assert.ok(res.candidates.length > 0);
});

Deno.test(
  "only services and admins may rank: others are unauthenticated or denied",
  opts,
  async () => {
    const request = { skillTags: ["t1"], limit: 3 };
    await expectCode(
      rpcClient(UserService, url).rankCandidates(request),
      Code.Unauthenticated,
    );
    const dev = await signUp(url, "developer");
    await expectCode(dev.client.rankCandidates(request), Code.PermissionDenied);
    const client = await signUp(url, "client");
    await expectCode(client.client.rankCandidates(request), Code.PermissionDenied);
    const { token } = await new TokenService([TEST_SECRET], 60).issue({
      subject: crypto.randomUUID(),
      role: "admin",
    });
    const admin = rpcClient(UserService, url, undefined, token);
    assert.ok((await admin.rankCandidates(request)).candidates.length > 0);
    // ListOnlineDevelopers keeps its rules: any signed-in caller.
    let streamed = 0;
    for await (const _ of dev.client.listOnlineDevelopers({ skillTags: ["t1"], limit: 5 })) {
      streamed++;
    }
    assert.ok(streamed > 0);
  },
);

Deno.test("stop the service", opts, async () => {
  await sql.end();
  await env.stop();
});
