/**
 * The User Service (:50051): accounts, developer profiles, presence and search.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { runServiceMain } from "@platform/lib/server";
import { startUsersService } from "./app.ts";
import { loadUsersConfig } from "./config.ts";

await runServiceMain("users", () => startUsersService(loadUsersConfig()));
