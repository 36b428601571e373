/**
 * Doctor: each service's `/health` (the manual's automated health checks).
 *
 * @module
 */
import type { ServiceUrls } from "../../shared/config.ts";
import { fetchHealth } from "../../shared/health.ts";
import type { Finding } from "../finding.ts";

const DEPLOYMENT: Record<string, string> = {
  users: "userservice",
  tasks: "taskservice",
  orchestrator: "orchestrator",
};

/**
 * One finding per service: ok when healthy, warn when degraded, fail when unhealthy or down.
 *
 * @example
 * ```ts
 * const findings = await checkServices(config.services);
 * ```
 */
export async function checkServices(services: ServiceUrls, timeoutMs = 3000): Promise<Finding[]> {
  const reports = await Promise.all(
    Object.entries(services).map(([name, url]) => fetchHealth(name, url, timeoutMs)),
  );
  return reports.map((report) => {
    const deployment = DEPLOYMENT[report.service] ?? report.service;
    const checks = report.checks
      ? Object.entries(report.checks).map(([dep, state]) => `${dep} ${state}`).join(", ")
      : undefined;
    const down = checks
      ? Object.entries(report.checks!).filter(([, s]) => s !== "healthy").map(([d]) => d)
      : [];
    const status = report.status === "healthy" && report.httpStatus === 200
      ? "ok"
      : report.status === "degraded" && report.httpStatus === 200
      ? "warn"
      : "fail";
    const summary = report.status === "unreachable"
      ? `${report.url} unreachable: ${report.error}`
      : `${report.status}${report.httpStatus !== 200 ? ` (HTTP ${report.httpStatus})` : ""}` +
        `${report.version ? ` ${report.version}` : ""}${
          report.uptime ? `, up ${report.uptime}` : ""
        }` +
        `${checks ? ` (${checks})` : ""}`;
    return {
      group: "services",
      check: report.service,
      status,
      summary,
      data: report,
      action: status === "ok" ? undefined : [
        ...(down.length > 0
          ? [`its dependencies report unhealthy: ${down.join(", ")}: see their findings below`]
          : []),
        `kubectl get pods -n freelance-platform; kubectl logs -f deployment/${deployment} -n freelance-platform`,
        `docker compose ps; docker compose logs ${deployment} --tail 100`,
        `restart it: kubectl rollout restart deployment/${deployment} -n freelance-platform (or docker compose restart ${deployment})`,
      ],
    };
  });
}
