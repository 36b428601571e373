/**
 * The Orchestrator (:50053): matches online developers to new tasks and runs the proposals.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { exitOnHelp, serviceUsage } from "@platform/lib/config";
import { runServiceMain } from "@platform/lib/server";
import { startOrchestrator } from "./app.ts";
import { loadOrchestratorConfig } from "./config.ts";

exitOnHelp(serviceUsage("start:orchestrator", "the Orchestrator", 50053));
await runServiceMain("orchestrator", () => startOrchestrator(loadOrchestratorConfig()));
