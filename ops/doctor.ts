/**
 * `deno task doctor`: the platform's health in one command: services, PostgreSQL, the manual's
 * daily checks, NATS, Redis; a verdict and what to do. See docs/ops.md.
 *
 * @example
 * ```sh
 * deno task doctor
 * deno task doctor --json
 * deno task doctor --skip services,redis
 * ```
 *
 * @module
 */
import { loadContacts, renderContacts } from "./contacts/contacts.ts";
import { renderDoctorReport } from "./doctor/report.ts";
import { type Group, GROUPS, runDoctor } from "./doctor/run_doctor.ts";
import { parseFlags, runMain } from "./shared/cli.ts";
import { loadOpsConfig } from "./shared/config.ts";
import { ExitCode, UsageError } from "./shared/errors.ts";
import type { Output } from "./shared/output.ts";

const USAGE = `Usage: deno task doctor [--json] [--skip GROUP,...]

Checks each service's /health (USERS_URL, TASKS_URL, ORCHESTRATOR_URL), PostgreSQL (DATABASE_URL:
connections, blocked locks, idle-in-transaction sessions, slow queries, sizes), the manual's daily
counts (online users, open tasks, proposals in the last hour), NATS JetStream (NATS_URL: streams,
consumers' pending and redeliveries) and Redis memory (REDIS_URL). When it finds a problem, it
ends with the emergency contacts (ops/contacts.yaml, or CONTACTS_FILE).

  --json          the report as JSON on stdout
  --skip GROUPS   comma-separated: ${GROUPS.join(", ")}

Exit codes: 0 healthy, 1 warnings (degraded), 2 critical problems (unhealthy), 64 bad usage.`;

/**
 * The doctor program; returns its exit code.
 *
 * @example
 * ```ts
 * const code = await doctorCli(["--json"], Output.console());
 * ```
 */
export async function doctorCli(
  args: string[],
  output: Output,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  const { flags } = parseFlags(args, { boolean: ["json"], string: ["skip"] });
  if (flags.help) {
    output.line(USAGE);
    return ExitCode.ok;
  }
  const skip = ((flags.skip as string | undefined) ?? "").split(",").map((s) => s.trim())
    .filter(Boolean);
  for (const group of skip) {
    if (!(GROUPS as readonly string[]).includes(group)) {
      throw new UsageError(`--skip: unknown group "${group}" (groups: ${GROUPS.join(", ")})`);
    }
  }
  const config = loadOpsConfig(env);
  output.progress("checking services, PostgreSQL, NATS and Redis ...");
  const report = await runDoctor(config, skip as Group[]);
  output.clearProgress();
  // Trouble found: say who to call, right under what to do.
  const contacts = report.verdict === "HEALTHY" ? undefined : await loadContacts(env.CONTACTS_FILE);
  if (flags.json) output.line(JSON.stringify({ ...report, contacts }, null, 2));
  else {
    output.line(
      renderDoctorReport(report) + (contacts ? `\n\n${renderContacts(contacts)}` : ""),
    );
  }
  return report.verdict === "HEALTHY"
    ? ExitCode.ok
    : report.verdict === "DEGRADED"
    ? ExitCode.failure
    : ExitCode.critical;
}

if (import.meta.main) await runMain((output) => doctorCli(Deno.args, output));
