/**
 * `deno task demo`: fills a running platform with believable data to try it: developers with
 * profiles and skills (online), client companies, their tasks, the orchestrator's proposals with
 * acceptances and declines, and task history (started, completed, cancelled), all through the
 * public RPCs. Run it twice and it logs into the accounts it made, posts no task twice and moves
 * the story on.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fillDemo } from "./demo/fill.ts";
import { demoClient, demoDeveloper } from "./demo/catalog.ts";

const USAGE = `Usage: deno task demo [--count N] [--password TEXT] [--wait SECONDS]

Fills the running platform (USERS_URL, TASKS_URL, ORCHESTRATOR_URL; default localhost:50051-50053)
with N developers (default 12; online, with profiles), N/4 client companies (at least 2), N tasks,
answers to the proposals the orchestrator makes and some task history. Accounts are
demo.dev.<n>@example.com and demo.client.<n>@example.com, all with the same password.
Run it again: existing accounts and tasks are reused and the story moves on.

  --count N        developers (and tasks) to have, 1-500 (default 12)
  --password TEXT  the demo accounts' password (default "demo password")
  --wait SECONDS   how long to wait for proposals (default 20)

Exit codes: 0 done, 1 a service refused or could not be reached, 64 bad usage.`;

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string" },
      password: { type: "string" },
      wait: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  Deno.exit(64);
}
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const count = Number(values.count ?? 12);
const wait = Number(values.wait ?? 20);
const password = values.password ?? "demo password";
if (!Number.isInteger(count) || count < 1 || count > 500) {
  console.error("--count must be a whole number from 1 to 500");
  Deno.exit(64);
}
if (!Number.isFinite(wait) || wait < 0) {
  console.error("--wait must be a number of seconds >= 0");
  Deno.exit(64);
}
if (password.length < 8) {
  console.error("--password must have at least 8 characters (the User Service's rule)");
  Deno.exit(64);
}
const urls = {
  users: Deno.env.get("USERS_URL") || "http://127.0.0.1:50051",
  tasks: Deno.env.get("TASKS_URL") || "http://127.0.0.1:50052",
  orchestrator: Deno.env.get("ORCHESTRATOR_URL") || "http://127.0.0.1:50053",
};
try {
  const started = performance.now();
  await fillDemo({
    urls,
    developers: count,
    password,
    proposalWaitMs: wait * 1000,
    log: (line) => console.log(line),
  });
  console.log(
    `\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s. Sign in at the web app ` +
      `(http://localhost:8080) as ${demoClient(0).email} (a client) or ${
        demoDeveloper(0).email
      } (a developer), password "${password}".`,
  );
} catch (error) {
  console.error(
    `demo: ${(error as Error).message}\n(is the platform running? deno task start; the URLs: ${
      Object.values(urls).join(", ")
    })`,
  );
  Deno.exit(1);
}
