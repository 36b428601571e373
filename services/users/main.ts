/**
 * The User Service (:50051): accounts, developer profiles, presence and search.
 * Configuration comes from the environment; see README.md.
 *
 * @module
 */
import { ConfigError } from "../../lib/config/env.ts";
import { startUsersService } from "./app.ts";
import { loadUsersConfig } from "./config.ts";

try {
  await startUsersService(loadUsersConfig());
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(JSON.stringify({ level: "error", service: "users", msg: error.message }));
    Deno.exit(1);
  }
  console.error(JSON.stringify({
    level: "error",
    service: "users",
    msg: "failed to start",
    error: (error as Error).message,
  }));
  Deno.exit(1);
}
