/**
 * Configuration from the environment, validated at start: a bad value stops the process with a
 * message that names the variable.
 *
 * @module
 */
export * from "./base_config.ts";
export * from "./cors_config.ts";
export * from "./env.ts";
