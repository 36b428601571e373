/**
 * The Orchestrator (:50053): matches online developers to new tasks and runs the proposals.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { ConfigError } from "../../lib/config/env.ts";
import { startOrchestrator } from "./app.ts";
import { loadOrchestratorConfig } from "./config.ts";

try {
  await startOrchestrator(loadOrchestratorConfig());
} catch (error) {
  console.error(JSON.stringify({
    level: "error",
    service: "orchestrator",
    msg: error instanceof ConfigError ? error.message : "failed to start",
    error: error instanceof ConfigError ? undefined : (error as Error).message,
  }));
  Deno.exit(1);
}
