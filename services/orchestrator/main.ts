/**
 * The Orchestrator (:50053): matches online developers to new tasks and runs the proposals.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { runServiceMain } from "@platform/lib/server";
import { startOrchestrator } from "./app.ts";
import { loadOrchestratorConfig } from "./config.ts";

await runServiceMain("orchestrator", () => startOrchestrator(loadOrchestratorConfig()));
