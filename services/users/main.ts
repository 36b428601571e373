/**
 * The User Service (:50051): accounts, developer profiles, presence and search.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { exitOnHelp, serviceUsage } from "@platform/lib/config";
import { runServiceMain } from "@platform/lib/server";
import { startUsersService } from "./app.ts";
import { loadUsersConfig } from "./config.ts";

exitOnHelp(serviceUsage("start:users", "the User Service", 50051));
await runServiceMain("users", () => startUsersService(loadUsersConfig()));
