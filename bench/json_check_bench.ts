/**
 * JSON input check benchmark: what `lib/server/json_input.ts` adds to a JSON request, against the
 * anchor of the same run, protobuf-es's own parse of that request (`fromJsonString`). Requests:
 * GetUser (flat: a key scan, no parse) and UpdateTask (nested: parsed and walked). Prints per
 * request, for BENCH_ROUNDS (3) rounds of BENCH_N (300,000) calls: the parse, the check, and their
 * ratio.
 *
 * ```sh
 * ./deno run -A bench/json_check_bench.ts
 * ```
 *
 * @module
 */
import { type DescMessage, fromJsonString } from "@bufbuild/protobuf";
import { jsonInputCheck } from "../lib/server/json_input.ts";
import { UpdateTaskRequestSchema } from "@platform/proto/tasks/v1";
import { GetUserRequestSchema } from "@platform/proto/users/v1";

const N = Number(Deno.env.get("BENCH_N") ?? 300_000);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);

function microseconds(call: () => unknown): number {
  for (let i = 0; i < Math.min(N, 50_000); i++) call();
  const start = performance.now();
  for (let i = 0; i < N; i++) call();
  return ((performance.now() - start) / N) * 1000;
}

const requests: Array<[string, DescMessage, string]> = [
  ["GetUser", GetUserRequestSchema, JSON.stringify({ user_id: crypto.randomUUID() })],
  [
    "UpdateTask",
    UpdateTaskRequestSchema,
    JSON.stringify({
      task_id: crypto.randomUUID(),
      title: "Port the API",
      required_skills: { skills: ["go", "postgresql"] },
      budget: { currency: "USD", amount_minor: "150000" },
    }),
  ],
];

for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, schema, text] of requests) {
    const check = jsonInputCheck(schema);
    const parse = microseconds(() => fromJsonString(schema, text));
    const checked = microseconds(() => check(text));
    console.log(
      `round ${round} ${name.padEnd(10)} parse ${parse.toFixed(3)} us, check ${
        checked.toFixed(3)
      } us, check/parse ${(checked / parse).toFixed(2)}`,
    );
  }
}
