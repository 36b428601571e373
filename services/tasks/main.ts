/**
 * The Task Service (:50052): the task lifecycle, with events that are never lost.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { exitOnHelp, serviceUsage } from "@platform/lib/config";
import { runServiceMain } from "@platform/lib/server";
import { startTasksService } from "./app.ts";
import { loadTasksConfig } from "./config.ts";

exitOnHelp(serviceUsage("start:tasks", "the Task Service", 50052));
await runServiceMain("tasks", () => startTasksService(loadTasksConfig()));
