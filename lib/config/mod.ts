/**
 * Configuration from the environment, validated at start: a bad value stops the process with a
 * message that names the variable.
 *
 * @example
 * ```ts
 * import { EnvReader, loadBaseConfig } from "@platform/lib/config";
 *
 * const config = loadBaseConfig("users", 50051, { PORT: "8081", LOG_LEVEL: "debug" });
 * console.log(config.port, config.logLevel); // 8081 "debug"
 *
 * const env = new EnvReader({ BACKUP_KEEP: "14" });
 * console.log(env.int("BACKUP_KEEP", 7, { min: 1 })); // 14
 * ```
 *
 * @module
 */
export * from "./base_config.ts";
export * from "./cors_config.ts";
export * from "./env.ts";
export * from "./help_flag.ts";
export * from "./trusted_proxies.ts";
