/**
 * Dependency checks and the manual's `/health` report, with uptime in Go duration form.
 *
 * @module
 */
export * from "./health_monitor.ts";
export * from "./uptime.ts";
