/**
 * The Task Service (:50052): the task lifecycle, with events that are never lost.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { ConfigError } from "../../lib/config/env.ts";
import { startTasksService } from "./app.ts";
import { loadTasksConfig } from "./config.ts";

try {
  await startTasksService(loadTasksConfig());
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(JSON.stringify({ level: "error", service: "tasks", msg: error.message }));
    Deno.exit(1);
  }
  console.error(JSON.stringify({
    level: "error",
    service: "tasks",
    msg: "failed to start",
    error: (error as Error).message,
  }));
  Deno.exit(1);
}
