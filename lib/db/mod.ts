/**
 * PostgreSQL: the bounded pool every service uses, and migrations applied at start under an
 * advisory lock.
 *
 * @module
 */
export * from "./database.ts";
export * from "./migrate.ts";
