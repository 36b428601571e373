/**
 * The manual's daily checks and troubleshooting steps in one run: services, PostgreSQL, the
 * platform's data, NATS and Redis. Groups run concurrently; one that fails to run becomes a
 * failed finding, never a crash.
 *
 * @module
 */
import type { OpsConfig } from "../shared/config.ts";
import {
  closeQuietly,
  databaseError,
  describeServer,
  openDatabase,
  serverInfo,
} from "../shared/db.ts";
import { errorMessage } from "../shared/errors.ts";
import {
  checkConnections,
  checkIdleInTransaction,
  checkLeftoverDatabases,
  checkLocks,
  checkSizes,
} from "./checks/database.ts";
import { checkNats } from "./checks/nats.ts";
import { checkPlatformData } from "./checks/platform.ts";
import { checkRedis } from "./checks/redis.ts";
import { checkServices } from "./checks/services.ts";
import { checkSlowQueries } from "./checks/slow_queries.ts";
import { type Finding, type Verdict, verdictOf } from "./finding.ts";

/** The check groups, in report order. */
export const GROUPS = ["services", "database", "platform", "nats", "redis"] as const;
/** One check group. */
export type Group = typeof GROUPS[number];

/** The doctor's report. */
export interface DoctorReport {
  /** When the report was made, ISO 8601 UTC. */
  generatedAt: string;
  /** The verdict, from the worst finding. */
  verdict: Verdict;
  /** Every finding, in report order. */
  findings: Finding[];
  /** The groups not checked (`--skip`). */
  skipped: Group[];
}

async function databaseFindings(config: OpsConfig): Promise<Finding[]> {
  let sql;
  try {
    // Bounded: during an incident a check must report a lock, never wait behind it.
    sql = await openDatabase(config.databaseUrl, {
      applicationName: "fp-ops-doctor",
      max: 1,
      settings: { lock_timeout: 2000, statement_timeout: 15_000 },
    });
  } catch (error) {
    const e = databaseError(config.databaseUrl, error);
    return [{
      group: "database",
      check: "connection",
      status: "fail",
      summary: errorMessage(error),
      action: [
        e.hint ?? "check DATABASE_URL",
        "every service needs PostgreSQL (critical): kubectl get pods -n freelance-platform / docker compose ps postgres",
      ],
    }];
  }
  try {
    const info = await serverInfo(sql);
    const findings: Finding[] = [{
      group: "database",
      check: "connection",
      status: "ok",
      summary: `${describeServer(config.databaseUrl)}, PostgreSQL ${info.version}`,
    }];
    const run = async (
      group: string,
      check: string,
      work: () => Promise<Finding | Finding[] | undefined>,
    ) => {
      try {
        const result = await work();
        if (result) findings.push(...(Array.isArray(result) ? result : [result]));
      } catch (error) {
        findings.push({
          group,
          check,
          status: "warn",
          summary: `check failed: ${errorMessage(error)}`,
        });
      }
    };
    await run("database", "connections", () => checkConnections(sql));
    await run("database", "blocked locks", () => checkLocks(sql));
    await run("database", "idle in transaction", () => checkIdleInTransaction(sql));
    await run("database", "slow queries", () => checkSlowQueries(sql));
    await run("database", "sizes", () => checkSizes(sql));
    await run("database", "restore leftovers", () => checkLeftoverDatabases(sql));
    await run("platform", "data", () => checkPlatformData(sql));
    return findings;
  } finally {
    await closeQuietly(sql);
  }
}

/**
 * Runs every group not skipped and returns the report.
 *
 * @example
 * ```ts
 * const report = await runDoctor(loadOpsConfig());
 * console.log(report.verdict);
 * ```
 */
export async function runDoctor(config: OpsConfig, skip: Group[] = []): Promise<DoctorReport> {
  const wanted = (group: Group) => !skip.includes(group);
  const [services, database, nats, redis] = await Promise.all([
    wanted("services") ? checkServices(config.services) : [],
    wanted("database") || wanted("platform") ? databaseFindings(config) : [],
    wanted("nats") ? checkNats(config.natsUrl) : [],
    wanted("redis") ? checkRedis(config.redisUrl, config.redisKeyPrefix).then((f) => [f]) : [],
  ]);
  const findings = [...services, ...database, ...nats, ...redis]
    .filter((f) =>
      wanted(f.group as Group) || (f.group === "database" && f.check === "connection")
    );
  return {
    generatedAt: new Date().toISOString(),
    verdict: verdictOf(findings),
    findings,
    skipped: skip,
  };
}
